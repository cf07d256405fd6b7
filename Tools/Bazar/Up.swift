import ArgumentParser
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
        abstract: "Start the front end, two catalog and two order replicas on loopback.")

    @Option(help: "Data directory: databases and logs. [env: BAZAR_DATA_DIR]")
    var dataDir: String = ProcessInfo.processInfo.environment["BAZAR_DATA_DIR"] ?? ".bazar"

    @Flag(help: "Start from empty databases (the seed catalog, no orders).")
    var fresh = false

    @Option(help: "Run on this PostgreSQL server (postgres://user:password@host:port), one database per replica, instead of SQLite files. [env: BAZAR_POSTGRES_URL]")
    var postgres: String? = ProcessInfo.processInfo.environment["BAZAR_POSTGRES_URL"]

    @Option(help: "Address every service listens on. [env: BAZAR_HOST]")
    var host = ProcessInfo.processInfo.environment["BAZAR_HOST"] ?? "127.0.0.1"

    @Option(help: "Front end port. [env: BAZAR_FRONT_PORT]")
    var frontPort = Int(ProcessInfo.processInfo.environment["BAZAR_FRONT_PORT"] ?? "") ?? 8080

    @Option(help: "Catalog replica ports, comma-separated. [env: BAZAR_CATALOG_PORTS]")
    var catalogPorts = ProcessInfo.processInfo.environment["BAZAR_CATALOG_PORTS"] ?? "8081,8082"

    @Option(help: "Order replica ports, comma-separated. [env: BAZAR_ORDER_PORTS]")
    var orderPorts = ProcessInfo.processInfo.environment["BAZAR_ORDER_PORTS"] ?? "8083,8084"

    @Option(help: "Seconds to wait for every service to be ready. [env: BAZAR_READY_TIMEOUT]")
    var readyTimeout = Int(ProcessInfo.processInfo.environment["BAZAR_READY_TIMEOUT"] ?? "") ?? 120

    func run() async throws {
        let binDirectory = try ServiceBinaries.locate()
        var layout = ClusterLayout(dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL, binDirectory: binDirectory)
        layout.host = host
        layout.frontPort = frontPort
        layout.catalogPorts = try ports(catalogPorts)
        layout.orderPorts = try ports(orderPorts)
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
        say("Bazar is up: http://\(host):\(frontPort) (try: curl http://\(host):\(frontPort)/info/1). Ctrl-C stops it.")
        let signal = await Self.waitForStopSignal(cluster: cluster)
        say("\nreceived \(signal), stopping …")
        await cluster.stopAll()
        say("stopped.")
    }

    func ports(_ text: String) throws -> [Int] {
        let ports = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard ports.count >= 1, ports.allSatisfy({ (1...65535).contains($0) }) else {
            throw ValidationError("'\(text)' is not a comma-separated list of ports")
        }
        return ports
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
