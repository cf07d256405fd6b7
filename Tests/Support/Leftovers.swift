import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an earlier test run left running when it crashed (its `atexit` and `defer`s never ran):
/// cluster members and scratch PostgreSQL servers in the temporary directory whose owner, the
/// test process that started them, is gone. They would load the machine for every later run.
/// Each is stopped by the PID it recorded, once the PID is checked to still be that process.
public enum Leftovers {
    /// Stops them, once per test process; how many were stopped.
    public static let stopped: Int = stopAll()

    static func stopAll() -> Int {
        let temporary = FileManager.default.temporaryDirectory
        let entries = (try? FileManager.default.contentsOfDirectory(at: temporary, includingPropertiesForKeys: nil)) ?? []
        var stopped = 0
        for directory in entries where directory.lastPathComponent.hasPrefix("bazar-") {
            stopped += stopMembers(in: directory) + stopPostgres(in: directory)
        }
        return stopped
    }

    /// Members recorded in `<data>/pids` (member PID, owner PID) by `LocalCluster`.
    static func stopMembers(in data: URL) -> Int {
        let pids = data.appendingPathComponent("pids")
        var stopped = 0
        for file in (try? FileManager.default.contentsOfDirectory(at: pids, includingPropertiesForKeys: nil)) ?? [] {
            let fields = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
            guard fields.count == 2, !isAlive(fields[1]), commandLine(of: fields[0]).contains(data.path) else { continue }
            kill(fields[0], SIGKILL)
            stopped += 1
        }
        return stopped
    }

    /// A `ScratchPostgres` directory whose `owner` is gone: its server is stopped at once.
    static func stopPostgres(in directory: URL) -> Int {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("owner"), encoding: .utf8),
              let owner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), !isAlive(owner),
              let pidFile = try? String(contentsOf: directory.appendingPathComponent("data/postmaster.pid"), encoding: .utf8),
              let server = pidFile.split(separator: "\n").first.flatMap({ Int32($0) }),
              commandLine(of: server).contains(directory.path) else { return 0 }
        // SIGQUIT: PostgreSQL's immediate shutdown, which also ends its own children.
        kill(server, SIGQUIT)
        return 1
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    static func commandLine(of pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }
}
