import ArgumentParser
import BazarCluster
import BazarLoad
import BazarService
import Foundation

/// `bazar bench`: drives a running Bazar through its front end with a workload generated from a
/// seed, and reports throughput and latency by kind of request. `--ceilings` and `--sweep` start
/// local Bazars of their own (release executables next to `bazar`) to measure against ceilings
/// and across a grid of settings.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a running Bazar through its front end; --ceilings and --sweep start local Bazars to compare and to sweep.")

    @Option(help: "The front end's base URL. [env: BAZAR_BENCH_URL]")
    var url = ProcessInfo.processInfo.environment["BAZAR_BENCH_URL"] ?? "http://127.0.0.1:8080"

    @Option(help: "Closed loop: clients, each sending its next request when the last is answered.")
    var clients = 16

    @Option(help: "Open loop instead: requests per second on a fixed schedule; latency counts from when each was due.")
    var rate: Double?

    @Option(help: "Open loop: requests outstanding at most (later ones wait, and their wait counts).")
    var maxInFlight = 1024

    @Option(help: "Seconds to measure.")
    var duration = 10

    @Option(help: "Requests to measure (the run ends at this count or the duration, whichever comes first).")
    var requests: Int?

    @Option(help: "Seconds of load before measuring (not counted).")
    var warmup = 2

    @Option(help: "Percentage of requests that are purchases (restocks keep the stock up: twice the copies purchases take).")
    var purchaseShare: Double = 10

    @Option(help: "Percentage of the reads that are searches (the rest: /info).")
    var searchShare: Double = 10

    @Option(help: "Explicit weights instead of the shares, as info=90,search=9,purchase=1,restock=0.")
    var mix: String?

    @Option(help: "Zipf exponent of book popularity: 0 picks every book alike, 1 favours the first strongly.")
    var zipf: Double = 1

    @Option(help: "Seed of the workload: the same seed gives the same request list.")
    var seed: UInt64 = 1

    @Option(help: "Book ids, as first-last (default: the books found under the topics).")
    var books: String?

    @Option(help: "Comma-separated topics to search.")
    var topics = "distributed systems,undergraduate school"

    @Option(help: "Admin token for restocks. [env: BAZAR_ADMIN_TOKEN]")
    var adminToken = ProcessInfo.processInfo.environment["BAZAR_ADMIN_TOKEN"]

    @Option(help: "Copies each book is restocked up to before a run with purchases.")
    var stockFloor = 1000

    @Option(help: "Write the workload's first requests (index, kind, method, path, body) to this CSV file.")
    var export: String?

    @Option(help: "Requests written by --export (default: --requests, else 100000).")
    var exportCount: Int?

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    @Option(help: "Write a Markdown summary to this file.")
    var markdown: String?

    @Option(help: "Write a self-contained HTML report with SVG plots to this file.")
    var html: String?

    @Flag(help: "Start local Bazars and measure the cases of the performance report against ceilings measured in the same run.")
    var ceilings = false

    @Option(help: "With --ceilings: how many times each figure and its ceiling are measured in turn (the medians are kept).")
    var rounds = 3

    @Flag(help: "Start local Bazars and measure clients 1, 5, 16, 64 × purchase share 0–80 % × cache on and off.")
    var sweep = false

    @Option(help: "With --ceilings: also measure on this PostgreSQL server (postgres://user:password@host:port), and pgbench on it. [env: BAZAR_POSTGRES_URL]")
    var postgres = ProcessInfo.processInfo.environment["BAZAR_POSTGRES_URL"]

    @Option(help: "With --ceilings or --sweep: the local Bazars' front end port (the replicas on the ports after it). [env: BAZAR_BENCH_FRONT_PORT]")
    var frontPort = Int(ProcessInfo.processInfo.environment["BAZAR_BENCH_FRONT_PORT"] ?? "") ?? 18080

    @Option(help: "pgbench, for --ceilings with --postgres. [env: BAZAR_PGBENCH]")
    var pgbench = ProcessInfo.processInfo.environment["BAZAR_PGBENCH"] ?? "/usr/lib/postgresql/15/bin/pgbench"

    func validate() throws {
        guard clients >= 1, duration >= 1, warmup >= 0, maxInFlight >= 1, stockFloor >= 0, rounds >= 1 else {
            throw ValidationError("--clients, --duration and --max-in-flight must be at least 1; --warmup and --stock-floor at least 0")
        }
        if let rate, !(rate > 0 && rate.isFinite) { throw ValidationError("--rate must be a positive number of requests per second") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        guard (0...100).contains(purchaseShare), (0...100).contains(searchShare) else { throw ValidationError("shares are percentages from 0 to 100") }
        guard zipf >= 0, zipf.isFinite else { throw ValidationError("--zipf must be 0 or more") }
        if ceilings && sweep { throw ValidationError("--ceilings and --sweep are separate runs: give one") }
    }

    /// The local Bazars of --ceilings and --sweep get this admin token (one per run) unless one is given.
    static let localAdminToken = LocalSecrets.randomToken()

    /// The token restocks carry.
    var restockToken: String? { adminToken ?? (ceilings || sweep ? Self.localAdminToken : nil) }

    func run() async throws {
        let command = (["bazar"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        var report = BenchReport(machine: Self.machine(), command: command)
        do {
            if ceilings {
                try await CeilingRuns(bench: self).run(into: &report)
            } else if sweep {
                try await sweepRuns(into: &report)
            } else {
                let run = try await measure(url: url, label: "")
                report.runs.append(run)
            }
        } catch let error as LoadError {
            throw ValidationError(error.description)
        }
        try write(report)
    }

    /// The workload of this command's options, over `books`.
    func workload(books: ClosedRange<Int>, purchasePercent: Double? = nil) throws -> Workload {
        let weights = try mix.map(Workload.parseMix) ?? Workload.mix(purchasePercent: purchasePercent ?? purchaseShare, searchPercentOfReads: searchShare)
        return try Workload(seed: seed, mix: weights, books: books, zipfExponent: zipf, topics: topicList)
    }

    var topicList: [String] { topics.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    /// The books to use on the front end at `url`: `--books`, or those listed under the topics.
    func bookRange(url: String, client: BackendClient) async throws -> ClosedRange<Int> {
        if let books {
            let parts = books.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 1, parts[0] <= parts[1] else { throw ValidationError("--books wants first-last, e.g. 1-7") }
            return parts[0]...parts[1]
        }
        let found = try await StockCheck.books(under: topicList, url: url, client: client)
        guard let first = found.first, let last = found.last, found.count == last - first + 1 else {
            throw LoadError("the books under the topics are not consecutive (\(found)); give --books")
        }
        return first...last
    }

    /// One run against the front end at `url`, with the stock check when the workload buys.
    func measure(
        url: String, label: String, workload given: Workload? = nil, pacing: LoadPlan.Pacing? = nil, infoPath: String = "/info/",
        checkStock: Bool = true, cpuOf bazar: LocalBazar? = nil
    ) async throws -> LoadResult {
        let client = BackendClient(connectionsPerHost: 4)
        defer { Task { try? await client.http.shutdown() } }
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let workload: Workload
        if let given { workload = given } else { workload = try self.workload(books: try await bookRange(url: base, client: client)) }
        if let export, given == nil {
            try workload.csv(count: exportCount ?? requests ?? 100_000).write(toFile: export, atomically: true, encoding: .utf8)
            say("workload written to \(export)")
        }
        var stock: StockCheck?
        if checkStock, workload.mix[.purchase, default: 0] > 0 {
            var check = StockCheck(url: base, books: Array(workload.books), adminToken: restockToken)
            try await check.prepare(floor: stockFloor, client: client)
            stock = check
        }
        var plan = LoadPlan(
            url: base, workload: workload, pacing: pacing ?? (rate.map { .open(rate: $0, maxInFlight: maxInFlight) } ?? .closed(clients: clients)),
            warmup: .seconds(warmup), duration: .seconds(duration), requests: requests, adminToken: restockToken)
        plan.infoPath = infoPath
        say("\(label.isEmpty ? "bench" : label): \(Self.describe(plan)) against \(base)")
        let start = CPUStart()
        var result = try await LoadRunner.run(plan, measuring: {
            if let bazar { await start.set(bazar.cpuSeconds()) }
        }, progress: { say($0) })
        result.label = label
        if let bazar, result.overall.requests > 0 {
            let before = await start.seconds, after = await bazar.cpuSeconds()
            for (member, used) in after { result.cpuPerRequest[member] = (used - before[member, default: used]) * 1000 / Double(result.overall.requests) }
        }
        if let stock { result.stockCheck = try await stock.verify(result.effects, client: client) }
        say(result.summary)
        return result
    }

    static func describe(_ plan: LoadPlan) -> String {
        let pacing = switch plan.pacing {
        case .closed(let clients): "\(clients) clients"
        case .open(let rate, _): "\(Int(rate)) req/s open loop"
        }
        let weights = RequestKind.allCases.compactMap { kind in plan.workload.mix[kind].flatMap { $0 > 0 ? "\(kind.rawValue)=\($0)" : nil } }
        return "\(pacing), mix \(weights.joined(separator: ",")), Zipf \(plan.workload.zipfExponent), seed \(plan.workload.seed)"
    }

    // MARK: Sweep

    static let sweepClients = [1, 5, 16, 64]
    static let sweepPurchaseShares: [Double] = [0, 20, 40, 60, 80]

    /// The grid the course behind this lab asks for, on a local Bazar with the cache on, then off.
    func sweepRuns(into report: inout BenchReport) async throws {
        report.sweep = true
        for cache in [true, false] {
            let results = try await LocalBazar.with(self, cache: cache, postgres: nil) { bazar in
                var results: [LoadResult] = []
                let books = try await bookRange(url: bazar.url, client: BackendClient.shared)
                for clients in Self.sweepClients {
                    for share in Self.sweepPurchaseShares {
                        let label = "cache \(cache ? "on" : "off"), \(clients) clients, \(Int(share)) % purchases"
                        results.append(try await measure(
                            url: bazar.url, label: label, workload: workload(books: books, purchasePercent: share), pacing: .closed(clients: clients)))
                    }
                }
                return results
            }
            report.runs += results
        }
    }

    // MARK: Output

    func write(_ report: BenchReport) throws {
        if let json { try report.json().write(to: URL(fileURLWithPath: json)) }
        if let markdown { try report.markdown().write(toFile: markdown, atomically: true, encoding: .utf8) }
        if let html { try report.html().write(toFile: html, atomically: true, encoding: .utf8) }
        if !report.ceilings.isEmpty || report.sweep {
            say("\n" + report.markdown())
        }
        for (name, path) in [("JSON", json), ("Markdown", markdown), ("HTML", html)] {
            if let path { say("\(name) written to \(path)") }
        }
    }

    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let build = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().lastPathComponent
        let date = ISO8601DateFormatter().string(from: Date())
        return "Machine: \(cores) cores (\(model)), \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB; \(build) build of bazar; the load generator and every service on this one machine; \(date)."
    }
}

/// The members' CPU seconds when a run's measured part began.
actor CPUStart {
    var seconds: [String: Double] = [:]
    func set(_ seconds: [String: Double]) { self.seconds = seconds }
}
