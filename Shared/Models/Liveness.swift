#if canImport(Glibc)
import Glibc
#endif

/// The answer to `GET /health`: the process is alive, and which process it is (so that a runner
/// that started a service can tell it from another one answering on the same port).
public struct Liveness: Codable, Sendable {
    public var status: String
    public var pid: Int32

    public init(status: String = "ok", pid: Int32) {
        self.status = status
        self.pid = pid
    }

    /// This process's.
    public static var current: Liveness { Liveness(pid: getpid()) }
}
