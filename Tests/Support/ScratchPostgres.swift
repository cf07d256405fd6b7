import BazarCluster
import BazarReplication
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A throwaway PostgreSQL server for tests: `initdb` into a temporary directory and `pg_ctl` on
/// a free loopback port, removed again by `stop()`. Runs the server as the `postgres` user when
/// started as root, since PostgreSQL refuses to run as root.
public struct ScratchPostgres: Sendable {
    public let port: Int
    public let directory: URL
    public let user: String

    /// The address clients reach it at: loopback, or the lab address it was started with.
    public let host: String

    /// `postgres://…@host:port` (no database: each store or replica names its own).
    public var url: String { "postgres://\(user)@\(host):\(port)" }

    public static var binDirectory: String {
        ProcessInfo.processInfo.environment["BAZAR_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
    }

    /// `lab`, if given (an address of this host and its subnet, `10.1.2.1` and `10.1.2.0/24`), is
    /// a second address the server listens on, trusting its subnet: for replicas in a `NetworkLab`.
    /// Tests run it without fsync (what they check does not depend on it); `durable` keeps
    /// PostgreSQL's defaults, for measurements.
    public static func start(alsoOn lab: (address: String, subnet: String)? = nil, durable: Bool = false) throws -> ScratchPostgres {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot { try run("/bin/chown", ["-R", "postgres", directory.path], asPostgres: false) }
        let data = directory.appendingPathComponent("data").path
        let port = FreePort.next()
        try run(binDirectory + "/initdb", ["-D", data, "-U", "bazar", "--auth=trust", "-E", "UTF8", "--no-sync"], asPostgres: asRoot)
        var listen = "127.0.0.1"
        if let lab {
            listen += ",\(lab.address)"
            let rules = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/pg_hba.conf"))
            rules.seekToEndOfFile()
            rules.write(Data("host all all \(lab.subnet) trust\n".utf8))
            try rules.close()
        }
        try run(binDirectory + "/pg_ctl", [
            "-D", data, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "60",
            "-o", "-p \(port) -k \(directory.path) -c listen_addresses=\(listen)\(durable ? "" : " -c fsync=off") -c max_connections=300",
            "start",
        ], asPostgres: asRoot)
        // Who started it: a later run stops it if this process died without doing so.
        try? "\(getpid())\n".write(to: directory.appendingPathComponent("owner"), atomically: true, encoding: .utf8)
        return ScratchPostgres(port: port, directory: directory, user: "bazar", host: lab?.address ?? "127.0.0.1")
    }

    public func stop() {
        let asRoot = getuid() == 0
        try? Self.run(Self.binDirectory + "/pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"], asPostgres: asRoot)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a command to completion. posix_spawn and waitpid rather than Foundation's Process:
    /// Process waits for a descriptor that the server pg_ctl leaves running would inherit.
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool) throws {
        try Command.runBlocking(asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments)
    }
}

extension ScratchPostgres {
    private static let sharedServer = Mutex<Result<ScratchPostgres, LocalCluster.Failure>?>(nil)

    /// One server for a whole test run, started on first use and stopped when the process exits.
    public static func shared() throws -> ScratchPostgres {
        _ = Leftovers.stopped
        return try sharedServer.withLock { server in
            if let server { return try server.get() }
            do {
                let started = try start()
                server = .success(started)
                atexit { ScratchPostgres.stopShared() }
            } catch {
                server = .failure(LocalCluster.Failure(description: "could not start a scratch PostgreSQL: \(error)"))
            }
            return try server!.get()
        }
    }

    static func stopShared() {
        if case .success(let server) = sharedServer.withLock({ $0 }) { server.stop() }
    }

    /// A URL naming a new, unique database on this server (created on first connection).
    public func freshDatabaseURL(prefix: String = "t") -> String {
        "\(url)/\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
    }
}
