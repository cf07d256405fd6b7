import Foundation
import Testing
@testable import BazarTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Members that a crashed test run left behind are stopped by the PID they recorded, and only
/// when their owner is gone and the PID is still theirs.
@Suite("Leftovers of crashed test runs")
struct LeftoversTests {
    /// A stand-in member: a process whose command line names a file in `data`, as a member's
    /// names its data directory.
    func member(naming data: URL) throws -> Process {
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let file = data.appendingPathComponent("anchor")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tail")
        process.arguments = ["-f", file.path]
        try process.run()
        return process
    }

    /// The PID of a process that has exited.
    func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test("a member whose owner is gone is stopped; one whose owner lives, or whose PID is another process's, is not")
    func stopsOrphansOnly() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-leftovers-\(UUID().uuidString.prefix(8))")
        let pids = data.appendingPathComponent("pids")
        try FileManager.default.createDirectory(at: pids, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let orphan = try member(naming: data), owned = try member(naming: data)
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-elsewhere-\(UUID().uuidString.prefix(8))")
        let stranger = try member(naming: elsewhere)
        defer {
            for process in [orphan, owned, stranger] { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: elsewhere)
        }
        let dead = try deadPID()
        try "\(orphan.processIdentifier) \(dead)\n".write(to: pids.appendingPathComponent("catalog-1"), atomically: true, encoding: .utf8)
        try "\(owned.processIdentifier) \(getpid())\n".write(to: pids.appendingPathComponent("catalog-2"), atomically: true, encoding: .utf8)
        try "\(stranger.processIdentifier) \(dead)\n".write(to: pids.appendingPathComponent("order-1"), atomically: true, encoding: .utf8)
        #expect(Leftovers.stopMembers(in: data) == 1)
        let deadline = ContinuousClock.now + .seconds(10)
        while orphan.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        #expect(!orphan.isRunning && orphan.terminationStatus == SIGKILL)
        #expect(owned.isRunning && stranger.isRunning)
    }
}
