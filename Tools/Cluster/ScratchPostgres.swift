import Foundation

/// A throwaway PostgreSQL server for tests: `initdb` into a temporary directory and `pg_ctl` on
/// a free loopback port, removed again by `stop()`. Runs the server as the `postgres` user when
/// started as root, since PostgreSQL refuses to run as root.
public struct ScratchPostgres: Sendable {
    public let port: Int
    public let directory: URL
    public let user: String

    /// `postgres://…@127.0.0.1:port` (no database: each store or replica names its own).
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)" }

    public static var binDirectory: String {
        ProcessInfo.processInfo.environment["BAZAR_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
    }

    public static func start() throws -> ScratchPostgres {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot { try run("/bin/chown", ["-R", "postgres", directory.path], asPostgres: false) }
        let data = directory.appendingPathComponent("data").path
        let port = FreePort.next()
        try run(binDirectory + "/initdb", ["-D", data, "-U", "bazar", "--auth=trust", "-E", "UTF8", "--no-sync"], asPostgres: asRoot)
        try run(binDirectory + "/pg_ctl", [
            "-D", data, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "60",
            "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            "start",
        ], asPostgres: asRoot)
        return ScratchPostgres(port: port, directory: directory, user: "bazar")
    }

    public func stop() {
        let asRoot = getuid() == 0
        try? Self.run(Self.binDirectory + "/pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"], asPostgres: asRoot)
        try? FileManager.default.removeItem(at: directory)
    }

    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool) throws {
        let process = Process()
        if asPostgres {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalCluster.Failure(description: "\(executable) failed (\(process.terminationStatus)): \(text)")
        }
    }
}
