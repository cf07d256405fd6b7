import Foundation
import Histogram

/// Latency percentiles (milliseconds), counts and errors of one kind of request, or of all.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var requests: Int
    public var throughput: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    /// HTTP status (or "no answer") to count.
    public var statuses: [String: Int]
    /// Answers that are not a success: no answer, or an error status (a purchase's 409, out of
    /// stock, is an answer of the contract, not an error).
    public var errors: Int

    /// The summary of these latencies (microseconds).
    public init(microseconds: [UInt64], statuses: [String: Int], errors: Int, seconds: Double) {
        var histogram = Tally.histogram()
        for value in microseconds { _ = histogram.record(value) }
        self.init(histogram, statuses: statuses, errors: errors, seconds: seconds)
    }

    init(_ histogram: Histogram<UInt64>, statuses: [String: Int], errors: Int, seconds: Double) {
        func ms(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
        requests = Int(histogram.totalCount)
        throughput = seconds > 0 ? Double(requests) / seconds : 0
        p50 = ms(50)
        p90 = ms(90)
        p99 = ms(99)
        p999 = ms(99.9)
        max = Double(histogram.max) / 1000
        self.statuses = statuses
        self.errors = errors
    }
}

/// What a load run measured, as printed, written as JSON, and tabled in reports.
public struct LoadResult: Codable, Sendable {
    public var label: String = ""
    public var url: String
    public var seed: UInt64
    /// "closed, 16 clients" or "open, 500 req/s".
    public var pacing: String
    public var clients: Int?
    public var rate: Double?
    public var mix: [String: Int]
    public var zipfExponent: Double
    public var seconds: Double
    public var overall: LatencySummary
    public var kinds: [String: LatencySummary]
    public var cacheHits: Int
    public var cacheMisses: Int
    /// `X-Served-By` to count.
    public var servedBy: [String: Int]
    /// Purchases answered 200, and copies added by restocks answered 200, by book.
    public var purchasedByBook: [String: Int]
    public var restockedByBook: [String: Int]
    /// Purchases answered 409 (out of stock).
    public var outOfStock: Int
    /// Whether G1 held on this run's books, when the bench checked it (see `StockCheck`).
    public var stockCheck: String?
    /// What the writes of the whole run, warm-up included, did to each book's stock.
    public var effects = WriteEffects()
    /// CPU time each member of a local Bazar spent per measured request, in milliseconds (when
    /// the bench started the Bazar and could read its processes).
    public var cpuPerRequest: [String: Double] = [:]

    public var hitRatio: Double { cacheHits + cacheMisses == 0 ? 0 : Double(cacheHits) / Double(cacheHits + cacheMisses) }
    public var throughput: Double { overall.throughput }
    public var errors: Int { overall.errors }
    public var purchases: Int { purchasedByBook.values.reduce(0, +) }

    /// The share of back-end answers that `replica` gave.
    public func share(of replica: String) -> Double {
        let total = servedBy.values.reduce(0, +)
        return total == 0 ? 0 : Double(servedBy[replica, default: 0]) / Double(total)
    }

    init(_ tally: Tally, seconds: Double, plan: LoadPlan) {
        url = plan.url
        seed = plan.workload.seed
        switch plan.pacing {
        case .closed(let clients):
            pacing = "closed, \(clients) clients"
            self.clients = clients
        case .open(let rate, _):
            pacing = "open, \(Int(rate)) req/s"
            self.rate = rate
        }
        mix = Dictionary(uniqueKeysWithValues: plan.workload.mix.map { ($0.key.rawValue, $0.value) })
        zipfExponent = plan.workload.zipfExponent
        self.seconds = seconds
        var all = Tally.histogram()
        var allStatuses: [String: Int] = [:]
        var kinds: [String: LatencySummary] = [:]
        var errors = 0
        for (kind, histogram) in tally.latency {
            all.add(histogram)
            let statuses = tally.statuses[kind, default: [:]]
            allStatuses.merge(statuses, uniquingKeysWith: +)
            let kindErrors = statuses.filter { !$0.key.hasPrefix("2") && !(kind == .purchase && $0.key == "409") }.values.reduce(0, +)
            errors += kindErrors
            kinds[kind.rawValue] = LatencySummary(histogram, statuses: statuses, errors: kindErrors, seconds: seconds)
        }
        overall = LatencySummary(all, statuses: allStatuses, errors: errors, seconds: seconds)
        self.kinds = kinds
        cacheHits = tally.cacheHits
        cacheMisses = tally.cacheMisses
        servedBy = tally.servedBy
        purchasedByBook = Dictionary(uniqueKeysWithValues: tally.purchased.map { (String($0.key), $0.value) })
        restockedByBook = Dictionary(uniqueKeysWithValues: tally.restocked.map { (String($0.key), $0.value) })
        outOfStock = tally.statuses[.purchase, default: [:]]["409", default: 0]
    }

    public static func ms(_ value: Double) -> String { String(format: value < 10 ? "%.2f" : "%.1f", value) }

    /// The run in a few lines, for the terminal.
    public var summary: String {
        var lines = [
            "requests    \(overall.requests) in \(String(format: "%.1f", seconds)) s = \(String(format: "%.0f", throughput)) req/s (\(pacing), seed \(seed))",
            "kind        req/s     p50      p90      p99    p99.9      max   errors",
        ]
        let rows = kinds.sorted { (RequestKind(rawValue: $0.key) ?? .info) < (RequestKind(rawValue: $1.key) ?? .info) }.map { ($0.key, $0.value) } + [("all", overall)]
        for (name, kind) in rows {
            lines.append(
                name.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + [String(format: "%7.0f", kind.throughput), Self.column(kind.p50), Self.column(kind.p90), Self.column(kind.p99),
                       Self.column(kind.p999), Self.column(kind.max), String(format: "%8d", kind.errors)].joined(separator: " "))
        }
        let statuses = overall.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        let served = servedBy.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        lines.append("statuses    \(statuses)")
        lines.append("cache       \(cacheHits) hits, \(cacheMisses) misses (hit ratio \(String(format: "%.1f", hitRatio * 100)) %)")
        lines.append("served by   \(served.isEmpty ? "-" : served)")
        if purchases + outOfStock > 0 { lines.append("purchases   \(purchases) sold, \(outOfStock) out of stock") }
        if let stockCheck { lines.append("G1          \(stockCheck)") }
        return lines.joined(separator: "\n")
    }

    private static func column(_ value: Double) -> String {
        let text = ms(value)
        return String(repeating: " ", count: Swift.max(0, 8 - text.count)) + text
    }
}

/// What a run's writes did to the stock, warm-up included, by book: copies sold and added by
/// answered writes, and the copies that unanswered ones may or may not have sold or added.
public struct WriteEffects: Codable, Sendable {
    public var sold: [Int: Int] = [:]
    public var added: [Int: Int] = [:]
    public var maybeSold: [Int: Int] = [:]
    public var maybeAdded: [Int: Int] = [:]

    public init() {}

    init(_ tallies: Tally...) {
        for tally in tallies {
            sold.merge(tally.purchased, uniquingKeysWith: +)
            added.merge(tally.restocked, uniquingKeysWith: +)
            maybeSold.merge(tally.unansweredPurchases, uniquingKeysWith: +)
            maybeAdded.merge(tally.unansweredRestocks, uniquingKeysWith: +)
        }
    }
}
