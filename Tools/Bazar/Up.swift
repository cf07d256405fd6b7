import ArgumentParser
import BazarLoad
import BazarCluster
import BazarReplication
import BazarService
import Foundation
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

    @Option(help: "Address every service listens on. [env: BAZAR_HOST]")
    var host = ProcessInfo.processInfo.environment["BAZAR_HOST"] ?? "127.0.0.1"

    @Option(help: "Front end port; the catalog replicas listen on the ports after it, the order replicas after the last catalog port. [env: BAZAR_FRONT_PORT, default: 8080]")
    var frontPort: Int?

    @Option(help: "Catalog replicas, 1 to 7: one runs without replication, two follow the pair rules, three or more the majority rules that survive network partitions (docs/consistency.md). [env: BAZAR_CATALOG_REPLICAS, default: 2]")
    var catalogReplicas: Int?

    @Option(help: "Order replicas, 1 to 7. [env: BAZAR_ORDER_REPLICAS, default: 2]")
    var orderReplicas: Int?

    @Option(help: "Seconds to wait for every service to be ready. [env: BAZAR_READY_TIMEOUT]")
    var readyTimeout = Int(ProcessInfo.processInfo.environment["BAZAR_READY_TIMEOUT"] ?? "") ?? 120

    func run() async throws {
        let topology: LocalTopology
        do {
            topology = try LocalTopology(
                host: host,
                frontPort: Setting.int(frontPort, env: "BAZAR_FRONT_PORT", default: LocalTopology.standard.frontPort),
                catalogReplicas: Setting.int(catalogReplicas, env: "BAZAR_CATALOG_REPLICAS", default: LocalTopology.standard.catalogReplicas),
                orderReplicas: Setting.int(orderReplicas, env: "BAZAR_ORDER_REPLICAS", default: LocalTopology.standard.orderReplicas)
            ).validated()
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let binDirectory = try ServiceBinaries.locate()
        var layout = ClusterLayout(
            topology: topology, dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL, binDirectory: binDirectory)
        layout.postgresURL = postgres
        if fresh { try await wipe(layout) }

        let cluster = LocalCluster(layout: layout)
        try await cluster.startAll()
        for member in layout.members {
            say("  \(member.name.padding(toLength: 10, withPad: " ", startingAt: 0)) http://\(host):\(member.port)   log: \(layout.logFile(of: member.name).path)")
        }
        say("waiting for every service to be ready …")
        do {
            try await cluster.waitUntilReady(timeout: .seconds(readyTimeout))
        } catch {
            say("bazar up: \(error)")
            await cluster.stopAll()
            throw ExitCode.failure
        }
        say("Bazar is up: \(topology.frontEndURL) (try: curl \(topology.frontEndURL)/info/1). Ctrl-C stops it.")
        let signal = await Self.waitForStopSignal(cluster: cluster)
        say("\nreceived \(signal), stopping …")
        await cluster.stopAll()
        say("stopped.")
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

    /// Waits for SIGINT or SIGTERM, and notices a member that dies on its own meanwhile.
    static func waitForStopSignal(cluster: LocalCluster) async -> String {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield(name) }
            source.resume()
            return source
        }
        let watcher = Task {
            var reported = Set<String>()
            while !Task.isCancelled {
                for (name, status) in await cluster.exited() where !reported.contains(name) {
                    reported.insert(name)
                    say("warning: \(name) exited (status \(status)); see its log")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let received = await stream.first { _ in true } ?? "end"
        watcher.cancel()
        sources.forEach { $0.cancel() }
        return received
    }
}
