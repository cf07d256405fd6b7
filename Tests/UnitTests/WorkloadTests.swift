import BazarLoad
import Foundation
import Testing

/// The bench's workload: seeded (the same seed, the same requests), shaped as asked (mix, Zipf),
/// and restocking more than it buys.
@Suite("Bench workload")
struct WorkloadTests {
    static func workload(seed: UInt64 = 7, purchase: Double = 20, zipf: Double = 1) throws -> Workload {
        try Workload(seed: seed, mix: Workload.mix(purchasePercent: purchase), books: 1...7, zipfExponent: zipf)
    }

    @Test("the same seed gives the same requests, in any order they are asked for; another seed others")
    func seeded() throws {
        let a = try Self.workload(), b = try Self.workload(), other = try Self.workload(seed: 8)
        let forward = (0..<2000).map { a.request($0) }
        let backward = (0..<2000).reversed().map { b.request($0) }.reversed()
        #expect(forward == Array(backward))
        #expect(forward != (0..<2000).map { other.request($0) })
        #expect(a.csv(count: 50) == b.csv(count: 50))
    }

    @Test("the kinds follow the mix")
    func mixShape() throws {
        let workload = try Self.workload(purchase: 20)
        let n = 50_000
        var counts: [RequestKind: Int] = [:]
        for index in 0..<n { counts[workload.request(index).kind, default: 0] += 1 }
        let purchases = Double(counts[.purchase, default: 0]) / Double(n)
        let searches = Double(counts[.search, default: 0]) / Double(n)
        #expect(abs(purchases - 0.2) < 0.01)
        // A tenth of the reads are searches.
        #expect(abs(searches - 0.08) < 0.01)
        // Restocks add at least as many copies as purchases take (twice as many expected).
        #expect(counts[.restock, default: 0] * Workload.restockCount > counts[.purchase, default: 0] * 3 / 2)
        #expect(try Workload.mix(purchasePercent: 0)[.restock] == 0)
    }

    @Test("book popularity follows Zipf's law: book k about 1 / k^s of book 1")
    func zipfShape() throws {
        for exponent in [0.0, 1.0, 1.5] {
            let workload = try Self.workload(zipf: exponent)
            var counts = [Int](repeating: 0, count: 8)
            let n = 70_000
            for index in 0..<n { counts[workload.request(index).book] += 1 }
            let zipf = Zipf(count: 7, exponent: exponent)
            for book in 1...7 {
                let expected = zipf.probability(book - 1)
                let observed = Double(counts[book]) / Double(n)
                #expect(abs(observed - expected) < 0.01, "book \(book) with s = \(exponent): \(observed) against \(expected)")
                #expect(abs(expected - (1 / pow(Double(book), exponent)) / (1...7).map { 1 / pow(Double($0), exponent) }.reduce(0, +)) < 1e-12)
            }
        }
    }

    @Test("requests are the contract's: paths, methods and the restock body")
    func requestShape() throws {
        let workload = try Workload(seed: 1, mix: [.restock: 1], books: 3...3, zipfExponent: 0, topics: ["distributed systems"])
        let restock = workload.request(0)
        #expect(restock.method == "POST" && restock.path == "/books/3/restock" && restock.body == #"{"count": 100}"#)
        let search = try Workload(seed: 1, mix: [.search: 1], books: 1...1, zipfExponent: 0, topics: ["distributed systems"]).request(0)
        #expect(search.method == "GET" && search.path == "/search/distributed%20systems" && search.body == nil)
        #expect(throws: LoadError.self) { try Workload.parseMix("info=1,buy=2") }
        #expect(throws: LoadError.self) { try Workload(seed: 1, mix: [.info: 0], books: 1...1, zipfExponent: 0) }
    }

    @Test("the latency summary reads percentiles from the histogram, in milliseconds")
    func statistics() throws {
        // 1,000 latencies of 1 ms to 1,000 ms: p50 about 500 ms, p99 about 990 ms.
        let summary = LatencySummary(microseconds: (1...1000).map { UInt64($0) * 1000 }, statuses: ["200": 1000], errors: 0, seconds: 10)
        #expect(summary.requests == 1000)
        #expect(summary.throughput == 100)
        #expect(abs(summary.p50 - 500) <= 1)
        #expect(abs(summary.p90 - 900) <= 1)
        #expect(abs(summary.p99 - 990) <= 1)
        #expect(abs(summary.max - 1000) <= 1)
    }
}
