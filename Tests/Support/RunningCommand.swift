import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real executable started by a test, its output (both streams) gathered in a file, so that a
/// test can wait for a line, signal it, and read how it ended.
public final class RunningCommand: @unchecked Sendable {
    // `Process` is thread-safe for what is used here (isRunning, terminationStatus, the pid).
    private let process = Process()
    public let outputFile: URL

    /// Runs `executable` with this process's environment, `environment` added and `unset` removed.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], unset: Set<String> = []) throws {
        outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-command-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.filter { !unset.contains($0.key) }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? output.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outputFile)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { if process.isRunning { kill(process.processIdentifier, number) } }

    /// The exit status, once it has exited; nil if it still runs after `limit`.
    public func exitStatus(within limit: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits until the output holds `text`; false if it ends or `limit` passes first.
    public func waitForOutput(_ text: String, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            guard process.isRunning else { return output.contains(text) }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
