import BazarService
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import Synchronization

/// What a load run sends: closed-loop clients, each sending its next request when the last
/// one is answered, picking requests from a weighted mix.
public struct LoadPlan: Sendable {
    public enum Operation: String, Sendable, CaseIterable {
        case info, search, purchase, restock
    }

    public var url: String
    public var concurrency: Int
    public var duration: Duration
    public var warmup: Duration
    public var mix: [(operation: Operation, weight: Int)]
    public var books: ClosedRange<Int>
    public var topics: [String]
    public var adminToken: String?

    public init(
        url: String, concurrency: Int, duration: Duration, warmup: Duration, mix: [(operation: Operation, weight: Int)],
        books: ClosedRange<Int>, topics: [String], adminToken: String?
    ) {
        self.url = url
        self.concurrency = concurrency
        self.duration = duration
        self.warmup = warmup
        self.mix = mix
        self.books = books
        self.topics = topics
        self.adminToken = adminToken
    }

    /// Parses `info=90,search=9,purchase=1`.
    public static func parseMix(_ text: String) throws -> [(operation: Operation, weight: Int)] {
        let mix = try text.split(separator: ",").map { item -> (operation: Operation, weight: Int) in
            let parts = item.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let operation = Operation(rawValue: parts[0]), let weight = Int(parts[1]), weight >= 0 else {
                throw LoadError("mix item '\(item)' is not operation=weight with operation one of \(Operation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return (operation, weight)
        }
        guard mix.map(\.weight).reduce(0, +) > 0 else { throw LoadError("the mix '\(text)' has no weight") }
        return mix
    }
}

public struct LoadError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What a load run measured.
public struct LoadReport: Codable, Sendable {
    public var requests: Int
    public var seconds: Double
    public var throughput: Double
    /// Latency percentiles in milliseconds.
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    /// HTTP status (or "no answer") to count.
    public var statuses: [String: Int]
    /// `X-Cache` HIT and MISS counts on reads.
    public var cacheHits: Int
    public var cacheMisses: Int
    /// `X-Served-By` to count.
    public var servedBy: [String: Int]

    public var hitRatio: Double { cacheHits + cacheMisses == 0 ? 0 : Double(cacheHits) / Double(cacheHits + cacheMisses) }
    public var failures: Int { statuses.filter { !$0.key.hasPrefix("2") && $0.key != "409" }.values.reduce(0, +) }

    public func share(of replica: String) -> Double {
        let total = servedBy.values.reduce(0, +)
        return total == 0 ? 0 : Double(servedBy[replica, default: 0]) / Double(total)
    }

    public var summary: String {
        let statusList = statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        let served = servedBy.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return """
        requests    \(requests) in \(String(format: "%.1f", seconds)) s = \(String(format: "%.0f", throughput)) req/s
        latency ms  p50 \(Self.ms(p50))  p90 \(Self.ms(p90))  p99 \(Self.ms(p99))  p99.9 \(Self.ms(p999))  max \(Self.ms(max))
        statuses    \(statusList)
        cache       \(cacheHits) hits, \(cacheMisses) misses (hit ratio \(String(format: "%.1f", hitRatio * 100)) %)
        served by   \(served)
        """
    }

    public static func ms(_ value: Double) -> String { String(format: value < 10 ? "%.2f" : "%.1f", value) }
}

/// Runs a `LoadPlan` against a front end and measures it (latency in an HdrHistogram).
public enum LoadGenerator {
    /// One client's tally; merged at the end.
    struct Tally: Sendable {
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var statuses: [String: Int] = [:]
        var hits = 0
        var misses = 0
        var servedBy: [String: Int] = [:]

        mutating func merge(_ other: Tally) {
            latency.add(other.latency)
            statuses.merge(other.statuses, uniquingKeysWith: +)
            hits += other.hits
            misses += other.misses
            servedBy.merge(other.servedBy, uniquingKeysWith: +)
        }
    }

    final class Progress: Sendable {
        let completed = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
    }

    /// Runs the plan; `progress` gets a line every second.
    public static func run(_ plan: LoadPlan, progress: @escaping @Sendable (String) -> Void) async throws -> LoadReport {
        let client = BackendClient(connectionsPerHost: plan.concurrency)
        do {
            let report = try await run(plan, client: client, progress: progress)
            try await client.http.shutdown()
            return report
        } catch {
            try? await client.http.shutdown()
            throw error
        }
    }

    private static func run(
        _ plan: LoadPlan, client: BackendClient, progress: @escaping @Sendable (String) -> Void
    ) async throws -> LoadReport {
        let totalWeight = plan.mix.map(\.weight).reduce(0, +)
        if plan.warmup > .zero {
            progress("warming up for \(plan.warmup) …")
            _ = try await measure(plan, client: client, for: plan.warmup, totalWeight: totalWeight, progress: nil)
        }
        let started = ContinuousClock.now
        let tally = try await measure(plan, client: client, for: plan.duration, totalWeight: totalWeight, progress: progress)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let requests = Int(tally.latency.totalCount)
        func ms(_ percentile: Double) -> Double { Double(tally.latency.valueAtPercentile(percentile)) / 1000 }
        return LoadReport(
            requests: requests, seconds: seconds, throughput: Double(requests) / seconds,
            p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: Double(tally.latency.max) / 1000,
            statuses: tally.statuses, cacheHits: tally.hits, cacheMisses: tally.misses, servedBy: tally.servedBy)
    }

    private static func measure(
        _ plan: LoadPlan, client: BackendClient, for duration: Duration, totalWeight: Int,
        progress report: (@Sendable (String) -> Void)?
    ) async throws -> Tally {
        let end = ContinuousClock.now + duration
        let progress = Progress()
        return try await withThrowingTaskGroup(of: Tally?.self) { group in
            for _ in 0..<plan.concurrency {
                group.addTask {
                    var tally = Tally()
                    while ContinuousClock.now < end {
                        try await send(plan.pick(totalWeight), plan, client: client, into: &tally, progress: progress)
                    }
                    return tally
                }
            }
            if let report {
                group.addTask {
                    var last = 0
                    var second = 0
                    while ContinuousClock.now + .seconds(1) <= end {
                        try await Task.sleep(for: .seconds(1))
                        second += 1
                        let done = progress.completed.load(ordering: .relaxed)
                        report("  \(second) s: \(done - last) req/s, \(progress.failed.load(ordering: .relaxed)) failed so far")
                        last = done
                    }
                    return nil
                }
            }
            var total = Tally()
            for try await tally in group { if let tally { total.merge(tally) } }
            return total
        }
    }

    private static func send(
        _ operation: LoadPlan.Operation, _ plan: LoadPlan, client: BackendClient, into tally: inout Tally, progress: Progress
    ) async throws {
        let book = Int.random(in: plan.books)
        var headers: [(String, String)] = []
        let (method, path, body): (HTTPMethod, String, ByteBuffer?) = switch operation {
        case .info: (.GET, "/info/\(book)", nil)
        case .search:
            (.GET, "/search/" + (plan.topics.randomElement() ?? "").addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!, nil)
        case .purchase: (.POST, "/purchase/\(book)", nil)
        case .restock: (.POST, "/books/\(book)/restock", ByteBuffer(string: #"{"count": 1}"#))
        }
        if operation == .restock, let token = plan.adminToken { headers.append(("Authorization", "Bearer \(token)")) }
        let started = ContinuousClock.now
        let status: String
        do {
            let reply = try await client.send(method, plan.url + path, body: body, headers: headers, timeout: .seconds(30))
            status = String(reply.status)
            if let cache = reply.headers.first(name: "X-Cache") {
                if cache == "HIT" { tally.hits += 1 } else { tally.misses += 1 }
            }
            if let served = reply.headers.first(name: "X-Served-By") { tally.servedBy[served, default: 0] += 1 }
        } catch let error as CancellationError {
            throw error
        } catch {
            status = "no answer"
        }
        let elapsed = ContinuousClock.now - started
        _ = tally.latency.record(UInt64(max(1, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)))
        tally.statuses[status, default: 0] += 1
        progress.completed.add(1, ordering: .relaxed)
        if !status.hasPrefix("2"), status != "409" { progress.failed.add(1, ordering: .relaxed) }
    }
}

extension LoadPlan {
    func pick(_ totalWeight: Int) -> Operation {
        var roll = Int.random(in: 0..<totalWeight)
        for (operation, weight) in mix {
            if roll < weight { return operation }
            roll -= weight
        }
        return mix[0].operation
    }
}

/// Prints a progress line at once, even when output goes to a file or a pipe.
public func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
