import ArgumentParser
import BazarCluster
import BazarLoad
import BazarService
import BazarTestSupport
import Foundation

/// `bazar-lab bench`: the front end's benchmarks. Each case starts its own local Bazar (SQLite, free
/// ports), loads it with the load generator (Tools/Load), and stops it; the results are Markdown tables.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the front end: cache on and off, balancing policies with one slowed replica, connection pool sizes.")

    @Option(help: "Seconds to measure each case.")
    var duration = 15

    @Option(help: "Seconds of load before measuring each case.")
    var warmup = 3

    @Option(help: "Concurrent clients in the cache and policy cases.")
    var concurrency = 16

    @Option(help: "Milliseconds added to every call to catalog-2 in the policy cases.")
    var slowMs = 20

    @Option(help: "Comma-separated cases to run: cache, policies, pool.")
    var cases = "cache,policies,pool"

    @Option(help: "Also write the tables to this Markdown file.")
    var output: String?

    func run() async throws {
        let binDirectory = try ServiceBinaries.locate()
        var report = [Self.machine(binDirectory: binDirectory), ""]
        let selected = Set(cases.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if selected.contains("cache") { report += try await cacheCase(binDirectory) + [""] }
        if selected.contains("policies") { report += try await policyCase(binDirectory) + [""] }
        if selected.contains("pool") { report += try await poolCase(binDirectory) + [""] }
        let text = report.joined(separator: "\n")
        say("\n" + text)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
    }

    /// Hit ratio and latency of a read-mostly mix, cache on and off.
    func cacheCase(_ binDirectory: URL) async throws -> [String] {
        var rows = [
            "Cache on and off: \(concurrency) clients, mix info=90,search=9,purchase=1 over books 1–7, \(duration) s each.",
            "",
            "| cache | req/s | hit ratio | p50 ms | p90 ms | p99 ms | p99.9 ms | failed |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for capacity in [1000, 0] {
            let label = capacity == 0 ? "off (`BAZAR_CACHE_CAPACITY=0`)" : "on (1,000 entries)"
            say("case: cache \(label)")
            let result = try await measure(binDirectory, environment: ["BAZAR_CACHE_CAPACITY": "\(capacity)"],
                                           mix: "info=90,search=9,purchase=1", concurrency: concurrency)
            rows.append("| \(label) | \(Int(result.throughput)) | \(String(format: "%.1f %%", result.hitRatio * 100)) | \(LoadResult.ms(result.overall.p50)) | \(LoadResult.ms(result.overall.p90)) | \(LoadResult.ms(result.overall.p99)) | \(LoadResult.ms(result.overall.p999)) | \(result.errors) |")
        }
        return rows
    }

    /// Throughput of each policy when catalog-2 answers `slowMs` later than catalog-1.
    func policyCase(_ binDirectory: URL) async throws -> [String] {
        var rows = [
            "Balancing policies with catalog-2 slowed by \(slowMs) ms (a proxy in front of each catalog replica, the other adds nothing), cache off, \(concurrency) clients, mix info=100, \(duration) s each.",
            "",
            "| catalog policy | req/s | p50 ms | p90 ms | p99 ms | share to slowed catalog-2 | failed |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for policy in BalancingPolicy.allCases {
            say("case: policy \(policy), catalog-2 slowed by \(slowMs) ms")
            let result = try await measure(binDirectory, environment: ["BAZAR_CACHE_CAPACITY": "0", "BAZAR_CATALOG_POLICY": policy.rawValue],
                                           mix: "info=100", concurrency: concurrency, catalogDelays: ["catalog-2": .milliseconds(slowMs)])
            rows.append("| \(policy) | \(Int(result.throughput)) | \(LoadResult.ms(result.overall.p50)) | \(LoadResult.ms(result.overall.p90)) | \(LoadResult.ms(result.overall.p99)) | \(String(format: "%.1f %%", result.share(of: "catalog-2") * 100)) | \(result.errors) |")
        }
        return rows
    }

    /// Throughput of uncached reads by the size of the front end's connection pool per replica,
    /// with replicas on loopback (CPU-bound here) and with replicas 10 ms away (latency-bound).
    func poolCase(_ binDirectory: URL) async throws -> [String] {
        let clients = 64
        var rows = [
            "Connections per back-end replica (`BAZAR_BACKEND_CONNECTIONS`): cache off, \(clients) clients, mix info=100, \(duration) s each; catalog replicas on loopback, then with 10 ms added to every call to each (a proxy in front of each, as a replica on another host or with a slow disk would be). AsyncHTTPClient's default is 8.",
            "",
            "| connections per replica | catalog replicas | req/s | p50 ms | p90 ms | p99 ms | failed |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for delay in [Duration.zero, .milliseconds(10)] {
            for connections in [2, 8, 64] {
                let where_ = delay == .zero ? "loopback" : "+10 ms each"
                say("case: \(connections) connections per replica, catalogs \(where_)")
                let result = try await measure(
                    binDirectory, environment: ["BAZAR_CACHE_CAPACITY": "0", "BAZAR_BACKEND_CONNECTIONS": "\(connections)"],
                    mix: "info=100", concurrency: clients,
                    catalogDelays: delay == .zero ? [:] : ["catalog-1": delay, "catalog-2": delay])
                rows.append("| \(connections) | \(where_) | \(Int(result.throughput)) | \(LoadResult.ms(result.overall.p50)) | \(LoadResult.ms(result.overall.p90)) | \(LoadResult.ms(result.overall.p99)) | \(result.errors) |")
            }
        }
        return rows
    }

    /// Starts a scratch Bazar (with a proxy in front of each catalog replica when any is to be
    /// slowed down), loads it, stops it.
    func measure(
        _ binDirectory: URL, environment: [String: String], mix: String, concurrency: Int, catalogDelays: [String: Duration] = [:]
    ) async throws -> LoadResult {
        var layout = ClusterLayout.scratch(binDirectory: binDirectory, label: "bench")
        layout.environment = environment.merging(["BAZAR_LOG_LEVEL": "warning"]) { $1 }
        let plan = LoadPlan(
            url: layout.url(of: "front"), workload: try Workload(seed: 1, mix: Workload.parseMix(mix), books: 1...7, zipfExponent: 0),
            pacing: .closed(clients: concurrency), warmup: .seconds(warmup), duration: .seconds(duration))
        let load: @Sendable (ClusterLayout) async throws -> LoadResult = { layout in
            let cluster = LocalCluster(layout: layout)
            do {
                try await cluster.startAll()
                try await cluster.waitUntilReady(timeout: .seconds(60))
                // Enough stock that purchases never run out during the run (an admin write: the
                // token the cluster was given, or the one it made on start).
                let token = try layout.environment["BAZAR_ADMIN_TOKEN"]
                    ?? String(contentsOf: LocalSecrets.ensure("admin-token", in: layout.dataDirectory), encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                for book in 1...7 {
                    let reply = try await BackendClient.shared.send(
                        .PATCH, layout.url(of: "front") + "/books/\(book)", body: .init(string: #"{"quantity": 1000000}"#),
                        headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(10))
                    guard reply.isSuccess else { throw LoadError("setting the stock of book \(book) answered \(reply.status)") }
                }
                let report = try await LoadRunner.run(plan) { say($0) }
                say(report.summary)
                await cluster.stopAll()
                try? FileManager.default.removeItem(at: layout.dataDirectory)
                return report
            } catch {
                await cluster.stopAll()
                say("logs kept in \(layout.dataDirectory.path)")
                throw error
            }
        }
        guard !catalogDelays.isEmpty else { return try await load(layout) }
        return try await LatencyProxy.inFrontOfCatalogs(of: layout) { layout, proxies in
            for (name, delay) in catalogDelays { proxies[name]?.setDelay(delay) }
            return try await load(layout)
        }
    }

    static func machine(binDirectory: URL) -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let build = binDirectory.lastPathComponent
        let date = ISO8601DateFormatter().string(from: Date())
        return "Machine: \(cores) cores (\(model)), \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB; \(build) build; load generator, proxies and all five services on this one machine; \(date)."
    }
}
