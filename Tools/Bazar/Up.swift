import ArgumentParser
import BazarLoad
import BazarCluster
import BazarReplication
import BazarService
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `bazar up`: the whole system on loopback, one process per service, until Ctrl-C.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the front end and the catalog and order replicas (two of each unless told) on loopback.")

    @Option(help: "Data directory: databases and logs. [env: BAZAR_DATA_DIR]")
    var dataDir: String = ProcessInfo.processInfo.environment["BAZAR_DATA_DIR"] ?? ".bazar"

    @Flag(help: "Start from empty databases (the seed catalog, no orders).")
    var fresh = false

    @Option(help: "Run on this PostgreSQL server (postgres://user:password@host:port), one database per replica, instead of SQLite files. [env: BAZAR_POSTGRES_URL]")
    var postgres: String? = ProcessInfo.processInfo.environment["BAZAR_POSTGRES_URL"]

    @OptionGroup var placement: TopologyOptions

    @Option(help: "Seconds to wait for every service to be ready. [env: BAZAR_READY_TIMEOUT]")
    var readyTimeout = Int(ProcessInfo.processInfo.environment["BAZAR_READY_TIMEOUT"] ?? "") ?? 120

    @Flag(help: "Keep the other services running when one exits (by default a service that exits stops them all, and bazar up exits non-zero).")
    var keepGoing = false

    func run() async throws {
        let topology = try placement.topology()
        var layout = ClusterLayout(
            topology: topology, dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL,
            binDirectory: URL(fileURLWithPath: "/"))
        // Another Bazar (or anything) on these ports would answer for ours: refuse before starting.
        let busy = await LocalCluster(layout: layout).busyPorts()
        guard busy.isEmpty else {
            busy.forEach { say("bazar up: \($0)") }
            say("bazar up: nothing started; free the ports or choose others (--front-port)")
            throw ExitCode.failure
        }
        layout.binDirectory = try ServiceBinaries.locate()
        layout.postgresURL = postgres
        if fresh { try await wipe(layout) }

        // Caught before anything starts: a Ctrl-C while the services start stops them too.
        let signals = StopSignals()
        let cluster = LocalCluster(layout: layout)
        try await cluster.startAll()
        for member in layout.members {
            say("  \(member.name.padding(toLength: 10, withPad: " ", startingAt: 0)) http://\(topology.host):\(member.port)   log: \(layout.logFile(of: member.name).path)")
        }
        say("waiting for every service to be ready …")
        switch await Self.waitUntilReady(cluster, timeout: .seconds(readyTimeout), signals: signals) {
        case .ready:
            break
        case .signal(let signal):
            say("\nreceived \(signal) during start, stopping …")
            await cluster.stopAll()
            throw ExitCode.failure
        case .exited(let report):
            say("bazar up: \(report)")
            await cluster.stopAll()
            throw ExitCode.failure
        }
        say("Bazar is up: \(topology.frontEndURL) (try: curl \(topology.frontEndURL)/info/1). Ctrl-C stops it.")
        if let file = await cluster.secretFiles?["BAZAR_ADMIN_TOKEN_FILE"] {
            say("admin token: \(file) (curl -H \"Authorization: Bearer $(cat \(file))\" -X DELETE \(topology.frontEndURL)/cache)")
        } else {
            say("admin token: the one BAZAR_ADMIN_TOKEN or BAZAR_ADMIN_TOKEN_FILE gives")
        }
        switch await Self.waitForStop(cluster: cluster, keepGoing: keepGoing, signals: signals) {
        case .ready, .signal:
            say("\nreceived \(signals.received ?? "a signal"), stopping …")
            await cluster.stopAll()
            say("stopped.")
        case .exited(let report):
            say("bazar up: error: \(report); stopping the other services (--keep-going keeps them)")
            await cluster.stopAll()
            throw ExitCode.failure
        }
    }

    func wipe(_ layout: ClusterLayout) async throws {
        if layout.postgresURL != nil {
            for member in layout.members where member.name != "front" {
                try await DatabaseClient.drop(url: layout.databaseURL(of: member.name))
            }
        }
        for member in layout.members {
            for suffix in [".sqlite", ".sqlite-wal", ".sqlite-shm"] {
                try? FileManager.default.removeItem(at: layout.dataDirectory.appendingPathComponent(member.name + suffix))
            }
        }
    }

    enum Outcome: Sendable {
        case ready
        case signal(String)
        /// A member exited, or did not become ready: what it said last.
        case exited(String)
    }

    /// Every member ready, or a signal, or a member that gave up, whichever comes first.
    static func waitUntilReady(_ cluster: LocalCluster, timeout: Duration, signals: StopSignals) async -> Outcome {
        await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    try await cluster.waitUntilReady(timeout: timeout)
                    return .ready
                } catch {
                    return .exited("\(error)")
                }
            }
            group.addTask { await .signal(signals.next()) }
            let first = await group.next() ?? .ready
            group.cancelAll()
            return first
        }
    }

    /// Waits for SIGINT or SIGTERM, or for a member that exits on its own (reported and waited
    /// past when `keepGoing`).
    static func waitForStop(cluster: LocalCluster, keepGoing: Bool, signals: StopSignals) async -> Outcome {
        var reported = Set<String>()
        while signals.received == nil {
            for name in await cluster.exited().keys.sorted() where !reported.contains(name) {
                reported.insert(name)
                let report = await cluster.exitReport(of: name)
                guard keepGoing else { return .exited(report) }
                say("warning: \(report)")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return .signal(signals.received ?? "")
    }
}

/// SIGINT and SIGTERM, caught (not obeyed) from the moment it is made, and remembered.
final class StopSignals: @unchecked Sendable {
    // Set by the signal sources' handlers, read by the tool's tasks.
    private let state = Mutex<String?>(nil)
    private var sources: [any DispatchSourceSignal] = []

    init() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { [weak self] in self?.state.withLock { $0 = $0 ?? name } }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    var received: String? { state.withLock { $0 } }

    /// The first signal, when it comes (polled: signals are rare, and this keeps one source of truth).
    func next() async -> String {
        while true {
            if let received { return received }
            try? await Task.sleep(for: .milliseconds(100))
            if Task.isCancelled { return "" }
        }
    }
}
