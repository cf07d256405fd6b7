import BazarModels
import Synchronization

/// Spreads calls over the replicas of a service, round-robin, and moves on to the next replica
/// when one gives no answer or answers 503 (it is down, or catching up).
public final class ReplicaRotation: Sendable {
    public let replicas: [ReplicaEndpoint]
    private let next = Mutex(0)

    public init(_ replicas: [ReplicaEndpoint]) { self.replicas = replicas }

    /// Every replica once, starting with the one whose turn it is.
    public func turnOrder() -> [ReplicaEndpoint] {
        guard !replicas.isEmpty else { return [] }
        let start = next.withLock { value in
            defer { value = (value + 1) % replicas.count }
            return value
        }
        return (0..<replicas.count).map { replicas[(start + $0) % replicas.count] }
    }

    /// Calls replicas in turn until one answers with something other than 503. Throws 503
    /// `unavailable` when none does.
    public func call(
        service: String, _ attempt: (ReplicaEndpoint) async throws -> BackendClient.Reply
    ) async throws -> (reply: BackendClient.Reply, replica: ReplicaEndpoint) {
        for replica in turnOrder() {
            do {
                let reply = try await attempt(replica)
                if reply.status != 503 { return (reply, replica) }
            } catch is BackendClient.Unreachable {
                continue
            }
        }
        throw APIError.unavailable("No \(service) replica can serve this request right now.")
    }
}
