import BazarModels
import BazarService
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The five Bazar processes of a `ClusterLayout`, started, stopped, killed, paused and resumed
/// one by one. `bazar up` and the system and fault tests drive Bazar through it.
public actor LocalCluster {
    public nonisolated let layout: ClusterLayout
    private var processes: [String: Process] = [:]
    private let client = BackendClient.shared

    public init(layout: ClusterLayout) { self.layout = layout }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// `BAZAR_…_TOKEN_FILE`s of the tokens this cluster made (`LocalSecrets`), for those that
    /// neither the environment nor the layout gives.
    public private(set) var secretFiles: [String: String]?

    private func secrets() throws -> [String: String] {
        if let secretFiles { return secretFiles }
        let files = try LocalSecrets.environment(
            for: layout.dataDirectory, given: ProcessInfo.processInfo.environment.merging(layout.environment) { $1 })
        secretFiles = files
        return files
    }

    /// Starts every member that is not running.
    public func startAll() throws {
        try FileManager.default.createDirectory(at: layout.dataDirectory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        for member in layout.members where processes[member.name]?.isRunning != true {
            try start(member.name)
        }
    }

    public func start(_ name: String) throws {
        guard let member = layout.members.first(where: { $0.name == name }) else { throw Failure(description: "no member \(name)") }
        let executable = layout.binDirectory.appendingPathComponent(member.executable)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Failure(description: "\(executable.path) is missing: run `swift build` first")
        }
        let logURL = layout.logFile(of: name)
        try FileManager.default.createDirectory(at: logURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logURL.path) {
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        let process = Process()
        if let prefix = layout.launchPrefix[name], let command = prefix.first {
            // `ip netns exec` execs the executable in place: the process is still the member's.
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = Array(prefix.dropFirst()) + [executable.path] + layout.arguments(of: member)
        } else {
            process.executableURL = executable
            process.arguments = layout.arguments(of: member)
        }
        process.environment = ProcessInfo.processInfo.environment.merging(layout.environment) { $1 }.merging(try secrets()) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        processes[name] = process
        recordPID(of: name, process.processIdentifier)
    }

    /// `<data>/pids/<member>`: the member's PID and this process's, so that a later run can stop
    /// members that a crashed run left behind (and only those: their owner is gone).
    private func recordPID(of name: String, _ pid: Int32) {
        let directory = layout.dataDirectory.appendingPathComponent("pids")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? "\(pid) \(getpid())\n".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    public func pid(of name: String) -> Int32? {
        processes[name].flatMap { $0.isRunning ? $0.processIdentifier : nil }
    }

    public func isRunning(_ name: String) -> Bool { processes[name]?.isRunning ?? false }

    /// Sends `signal` to a member.
    public func signal(_ name: String, _ signal: Int32) {
        if let pid = pid(of: name) { kill(pid, signal) }
    }

    /// `kill -9`: the member dies at once, with no chance to clean up.
    public func crash(_ name: String) async {
        signal(name, SIGKILL)
        await waitForExit(name)
    }

    public func pause(_ name: String) { signal(name, SIGSTOP) }
    public func resume(_ name: String) { signal(name, SIGCONT) }

    /// SIGTERM, then SIGKILL if the member has not shut down gracefully within `grace`.
    public func stop(_ name: String, grace: Duration = .seconds(10)) async {
        guard isRunning(name) else { return }
        signal(name, SIGCONT)
        signal(name, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning(name), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if isRunning(name) { await crash(name) }
    }

    public func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for name in processes.keys {
                group.addTask { await self.stop(name) }
            }
        }
    }

    private func waitForExit(_ name: String) async {
        while isRunning(name) { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Waits until each named member (all by default) answers `/ready` with 200, and is the
    /// process this cluster started (another one on the same port would answer too).
    public func waitUntilReady(_ names: [String]? = nil, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        for name in names ?? layout.members.map(\.name) {
            while true {
                if let reply = try? await client.send(.GET, layout.url(of: name) + "/ready", timeout: .seconds(1)), reply.isSuccess,
                   await answersItself(name) {
                    break
                }
                guard isRunning(name) else {
                    throw Failure(description: "\(exitReport(of: name)) during start")
                }
                guard ContinuousClock.now < deadline else {
                    throw Failure(description: "\(name) was not ready within \(timeout)\(await replicationReport(of: name)); see \(layout.logFile(of: name).path)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Where each replica of `name`'s service stands, when `name` is a replica: its place in the
    /// log beside its peers', and what holds its write turn. Says which replica is stuck, and on what.
    public func replicationReport(of name: String) async -> String {
        guard let service = name.split(separator: "-").first.map(String.init), service != "front" else { return "" }
        var lines: [String] = []
        for peer in layout.members.map(\.name) where peer.hasPrefix(service + "-") {
            guard let reply = try? await client.send(.GET, layout.url(of: peer) + "/replication/status", timeout: .seconds(2)),
                  let status = try? reply.decode(ReplicationStatus.self) else {
                lines.append("\(peer): no answer to /replication/status\(isRunning(peer) ? "" : " (not running)")")
                continue
            }
            let busy = status.progress.map { "busy \($0)" } ?? "idle"
            lines.append("\(peer): \(status.role.rawValue) in term \(status.term) (leader \(status.leader.isEmpty ? "none" : status.leader)), "
                + "last_seq \(status.lastSeq), in_sync \(status.inSync), \(busy)")
        }
        return lines.isEmpty ? "" : "\n  " + lines.joined(separator: "\n  ") + "\n"
    }

    /// The exit status of members that stopped on their own.
    public func exited() -> [String: Int32] {
        processes.filter { !$0.value.isRunning }.mapValues(\.terminationStatus)
    }

    /// Whether the process answering at the member's address is the one this cluster started.
    private func answersItself(_ name: String) async -> Bool {
        guard let pid = pid(of: name),
              let reply = try? await client.send(.GET, layout.url(of: name) + "/health", timeout: .seconds(1)),
              let liveness = try? reply.decode(Liveness.self) else { return false }
        return liveness.pid == pid
    }

    /// "catalog-1 exited (status 1): <the last line of its log>; log: <path>".
    public func exitReport(of name: String) -> String {
        let status = processes[name].map { $0.isRunning ? "running" : "status \($0.terminationStatus)" } ?? "never started"
        let log = layout.logFile(of: name)
        let lastLine = ((try? String(contentsOf: log, encoding: .utf8)) ?? "")
            .split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return "\(name) exited (\(status))" + (lastLine.map { ": \($0)" } ?? "") + "; log: \(log.path)"
    }

    /// Members whose ports another process holds now, each with that process when it can be named.
    public func busyPorts() async -> [String] {
        var busy: [String] = []
        for member in layout.members {
            do {
                try await ServiceStart.checkAddress(host: layout.host(of: member.name), port: member.port)
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                let holder = PortHolder.describe(port: member.port).map { ", held by \($0)" } ?? ""
                busy.append("port \(member.port) (\(member.name)) is not free: address already in use\(holder)")
            } catch {
                busy.append("port \(member.port) (\(member.name)) is not free: \(error)")
            }
        }
        return busy
    }
}
