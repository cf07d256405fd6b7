import BazarLoad
import BazarService
import Foundation

/// `bazar bench --ceilings`: each figure of the performance report beside a ceiling measured in
/// the same run, on local Bazars started for it; each pair measured in turn `--rounds` times, the
/// medians kept.
///
/// - a cached `GET /info/1` against a bare Hummingbird server answering the same bytes;
/// - `GET /info/1` with the cache off (one hop) against a catalog replica's own `GET /books/1`;
/// - purchases on SQLite stores, and on PostgreSQL stores against pgbench on the same server;
/// - each member's memory, idle and at its peak under load.
struct CeilingRuns {
    let bench: Bench

    /// Reads of one book only, as the ceilings are.
    func bookOne() throws -> Workload {
        try Workload(seed: bench.seed, mix: [.info: 1], books: 1...1, zipfExponent: 0)
    }

    /// Purchases only, with restocks that add twice the copies they take.
    func purchases(_ books: ClosedRange<Int>) throws -> Workload {
        try Workload(seed: bench.seed, mix: [.purchase: Workload.restockCount, .restock: 2], books: books, zipfExponent: bench.zipf)
    }

    /// Measures `bazar` and its ceiling in turn, `--rounds` times, and keeps the median of each: on
    /// a shared machine one run of either can be far off (seen: the same ceiling at 10,000 and 6,500
    /// req/s in two runs minutes apart), and alternating spreads a slow spell over both.
    func alternating<Ceiling: Sendable>(
        _ bazar: () async throws -> LoadResult, _ ceiling: () async throws -> Ceiling, throughput: (Ceiling) -> Double
    ) async throws -> (LoadResult, Ceiling) {
        var ours: [LoadResult] = [], theirs: [Ceiling] = []
        for round in 1...bench.rounds {
            say("round \(round) of \(bench.rounds)")
            ours.append(try await bazar())
            theirs.append(try await ceiling())
        }
        let median = ours.sorted { $0.throughput < $1.throughput }[ours.count / 2]
        return (median, theirs.sorted { throughput($0) < throughput($1) }[theirs.count / 2])
    }

    func run(into report: inout BenchReport) async throws {
        let bench = bench
        let cached = try await LocalBazar.with(bench, cache: true, postgres: nil) { bazar in
            let idle = await Self.memory(of: bazar)
            let books = try await bench.bookRange(url: bazar.url, client: BackendClient.shared)
            let reply = try await BackendClient.shared.send(.GET, bazar.url + "/info/1", timeout: .seconds(10))
            let (cached, bare) = try await CeilingServer.with(body: Data(reply.body.readableBytesView)) { url in
                try await alternating({
                    try await bench.measure(url: bazar.url, label: "cached GET /info/1", workload: bookOne(), checkStock: false, cpuOf: bazar)
                }, {
                    try await bench.measure(url: url, label: "bare Hummingbird 2, same bytes", workload: bookOne(), checkStock: false)
                }, throughput: \.throughput)
            }
            let sold = try await bench.measure(url: bazar.url, label: "purchases, SQLite stores", workload: purchases(books), cpuOf: bazar)
            let peak = await Self.memory(of: bazar)
            return (cached: cached, bare: bare, sold: sold, idle: idle, peak: peak)
        }
        let uncached = try await LocalBazar.with(bench, cache: false, postgres: nil) { bazar in
            let (front, replica) = try await alternating({
                try await bench.measure(url: bazar.url, label: "GET /info/1, cache off", workload: bookOne(), checkStock: false, cpuOf: bazar)
            }, {
                try await bench.measure(
                    url: bazar.url(of: "catalog-1"), label: "catalog-1's own GET /books/1", workload: bookOne(), infoPath: "/books/", checkStock: false)
            }, throughput: \.throughput)
            return (front: front, replica: replica)
        }
        report.runs += [cached.cached, cached.bare, uncached.front, uncached.replica, cached.sold]
        report.ceilings += [
            CeilingComparison(name: "cached GET /info/1 (req/s)", bazar: cached.cached.throughput,
                              ceilingName: "bare Hummingbird 2 server, same bytes, no middleware", ceiling: cached.bare.throughput, goal: 0.9),
            CeilingComparison(name: "GET /info/1, cache off (req/s)", bazar: uncached.front.throughput,
                              ceilingName: "the catalog replica's own GET /books/1", ceiling: uncached.replica.throughput, goal: 0.5),
        ]
        var postgresPurchases: Double?
        if let postgres = bench.postgres {
            let (sold, tps) = try await LocalBazar.with(bench, cache: true, postgres: postgres) { bazar in
                let books = try await bench.bookRange(url: bazar.url, client: BackendClient.shared)
                return try await alternating({
                    try await bench.measure(url: bazar.url, label: "purchases, PostgreSQL stores", workload: purchases(books), cpuOf: bazar)
                }, {
                    try Pgbench.transactionsPerSecond(executable: bench.pgbench, serverURL: postgres, clients: bench.clients, seconds: bench.duration)
                }, throughput: { $0 })
            }
            report.runs.append(sold)
            postgresPurchases = tps
            report.ceilings.append(CeilingComparison(
                name: "purchases, PostgreSQL stores (/s)", bazar: sold.kinds["purchase"]?.throughput ?? 0,
                ceilingName: "pgbench simple-update, same server, \(bench.clients) clients", ceiling: tps, goal: 0.25,
                note: "p50 \(LoadResult.ms(sold.kinds["purchase"]?.p50 ?? 0)) ms, p99 \(LoadResult.ms(sold.kinds["purchase"]?.p99 ?? 0)) ms (goal p99 ≤ 50 ms)"))
        }
        report.ceilings.append(CeilingComparison(
            name: "purchases, SQLite stores (/s)", bazar: cached.sold.kinds["purchase"]?.throughput ?? 0,
            ceilingName: "pgbench simple-update (the PostgreSQL goal)", ceiling: postgresPurchases, goal: postgresPurchases == nil ? nil : 0.25,
            note: "p50 \(LoadResult.ms(cached.sold.kinds["purchase"]?.p50 ?? 0)) ms, p99 \(LoadResult.ms(cached.sold.kinds["purchase"]?.p99 ?? 0)) ms"))
        report.memory = cached.idle.keys.sorted().map { member in
            MemoryFigure(member: member, idleMB: cached.idle[member]?.resident ?? 0, peakMB: cached.peak[member]?.peak ?? 0)
        }
    }

    static func memory(of bazar: LocalBazar) async -> [String: (resident: Double, peak: Double)] {
        var figures: [String: (resident: Double, peak: Double)] = [:]
        for member in bazar.members {
            if let figure = await bazar.memory(of: member) { figures[member] = figure }
        }
        return figures
    }
}
