import BazarService
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import Synchronization

/// How a load run sends a workload through a front end.
public struct LoadPlan: Sendable {
    public enum Pacing: Sendable, Equatable {
        /// `clients` clients, each sending its next request when the last is answered.
        case closed(clients: Int)
        /// `rate` requests per second on a fixed schedule, whatever the answers do; a request's
        /// latency counts from when it was due, not from when it could be sent (no coordinated
        /// omission). At most `maxInFlight` are outstanding; later ones wait, and their wait counts.
        case open(rate: Double, maxInFlight: Int)
    }

    public var url: String
    public var workload: Workload
    public var pacing: Pacing
    /// Load before measuring, not counted.
    public var warmup: Duration
    /// How long to measure; with `requests`, whichever ends first.
    public var duration: Duration?
    /// How many requests to measure.
    public var requests: Int?
    public var adminToken: String?
    public var timeout: Duration
    /// Where info requests go, followed by the book's id: `/info/` on a front end, `/books/` to
    /// measure a catalog replica directly.
    public var infoPath = "/info/"

    public init(
        url: String, workload: Workload, pacing: Pacing, warmup: Duration, duration: Duration?, requests: Int? = nil,
        adminToken: String? = nil, timeout: Duration = .seconds(30)
    ) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.workload = workload
        self.pacing = pacing
        self.warmup = warmup
        self.duration = duration
        self.requests = requests
        self.adminToken = adminToken
        self.timeout = timeout
    }
}

public struct LoadError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a `LoadPlan` and measures it: latency per request kind in HdrHistograms (microseconds),
/// statuses, cache hits, the replicas that answered, and what purchases and restocks took and added.
public enum LoadRunner {
    /// Runs the plan; `measuring` is called when the warm-up is over and the measured part begins.
    public static func run(
        _ plan: LoadPlan, measuring: @Sendable () async -> Void = {}, progress: @escaping @Sendable (String) -> Void
    ) async throws -> LoadResult {
        guard plan.duration != nil || plan.requests != nil else { throw LoadError("a run needs a duration or a request count") }
        let clients = switch plan.pacing {
        case .closed(let clients): clients
        case .open(_, let maxInFlight): maxInFlight
        }
        let client = BackendClient(connectionsPerHost: clients)
        do {
            let next = Counters()
            var warmup = Tally()
            if plan.warmup > .zero {
                progress("warming up for \(plan.warmup) …")
                warmup = try await phase(plan, client: client, next: next, duration: plan.warmup, requests: nil, progress: nil)
            }
            await measuring()
            let started = ContinuousClock.now
            let tally = try await phase(plan, client: client, next: next, duration: plan.duration, requests: plan.requests, progress: progress)
            let seconds = (ContinuousClock.now - started).seconds
            try await client.http.shutdown()
            var result = LoadResult(tally, seconds: seconds, plan: plan)
            // What the warm-up's writes did counts for the stock, though not for the figures.
            result.effects = WriteEffects(tally, warmup)
            return result
        } catch {
            try? await client.http.shutdown()
            throw error
        }
    }

    /// One phase (warm-up or measurement): requests until `duration` has passed or `requests` have
    /// been sent, whichever comes first.
    private static func phase(
        _ plan: LoadPlan, client: BackendClient, next: Counters, duration: Duration?, requests: Int?,
        progress: (@Sendable (String) -> Void)?
    ) async throws -> Tally {
        let start = ContinuousClock.now
        let end = duration.map { start + $0 }
        let first = next.issued.load(ordering: .relaxed)
        let limit = requests.map { first + $0 }
        let counters = Counters()
        // The progress line runs beside the requests and stops when they are done.
        try await withThrowingDiscardingTaskGroup { outer in
            if let progress {
                outer.addTask { await report(progress, counters: counters, start: start, end: end) }
            }
            try await drive(plan, client: client, next: next, counters: counters, start: start, end: end, requests: requests, limit: limit)
            outer.cancelAll()
        }
        return counters.tally.withLock { $0 }
    }

    /// The requests of one phase, by the plan's pacing.
    private static func drive(
        _ plan: LoadPlan, client: BackendClient, next: Counters, counters: Counters, start: ContinuousClock.Instant,
        end: ContinuousClock.Instant?, requests: Int?, limit: Int?
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            switch plan.pacing {
            case .closed(let clients):
                for _ in 0..<clients {
                    group.addTask {
                        while end.map({ ContinuousClock.now < $0 }) ?? true {
                            let index = next.issued.add(1, ordering: .relaxed).oldValue
                            if let limit, index >= limit { return }
                            let outcome = try await send(plan.workload.request(index), plan, client: client, due: .now)
                            counters.record(outcome)
                        }
                    }
                }
            case .open(let rate, let maxInFlight):
                // The schedule: request n is due at start + n / rate.
                var sent = 0
                while end.map({ ContinuousClock.now < $0 }) ?? true, requests.map({ sent < $0 }) ?? true {
                    let due = Int((ContinuousClock.now - start).seconds * rate) + 1
                    while sent < due, requests.map({ sent < $0 }) ?? true {
                        let index = next.issued.add(1, ordering: .relaxed).oldValue
                        let dueAt = start + .seconds(Double(sent) / rate)
                        sent += 1
                        while counters.inFlight.load(ordering: .relaxed) >= maxInFlight { try await Task.sleep(for: .milliseconds(1)) }
                        counters.inFlight.add(1, ordering: .relaxed)
                        group.addTask {
                            defer { counters.inFlight.subtract(1, ordering: .relaxed) }
                            let outcome = try await send(plan.workload.request(index), plan, client: client, due: dueAt)
                            counters.record(outcome)
                        }
                    }
                    let nextDue = start + .seconds(Double(sent) / rate)
                    try await Task.sleep(until: max(nextDue, ContinuousClock.now + .microseconds(200)), clock: .continuous)
                }
            }
        }
    }

    /// A progress line a second: requests per second, errors so far.
    private static func report(
        _ progress: @Sendable (String) -> Void, counters: Counters, start: ContinuousClock.Instant, end: ContinuousClock.Instant?
    ) async {
        var last = 0, second = 0
        while true {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            if let end, ContinuousClock.now > end { return }
            second += 1
            let done = counters.completed.load(ordering: .relaxed)
            progress("  \(second) s: \(done - last) req/s, \(done) done, \(counters.errors.load(ordering: .relaxed)) errors")
            last = done
        }
    }

    /// Shared by a run's tasks: request numbers handed out, requests outstanding, and the
    /// completed and failed ones for the progress line.
    final class Counters: Sendable {
        let issued = Atomic<Int>(0)
        let inFlight = Atomic<Int>(0)
        let completed = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
        let tally = Mutex(Tally())

        func record(_ outcome: Outcome) {
            tally.withLock { $0.record(outcome) }
            completed.add(1, ordering: .relaxed)
            if outcome.isError { errors.add(1, ordering: .relaxed) }
        }
    }

    /// What one request got.
    struct Outcome: Sendable {
        var request: WorkloadRequest
        /// The HTTP status, or "no answer".
        var status: String
        var microseconds: UInt64
        var cache: String?
        var servedBy: String?

        var isError: Bool { !status.hasPrefix("2") && !(request.kind == .purchase && status == "409") }
    }

    private static func send(_ request: WorkloadRequest, _ plan: LoadPlan, client: BackendClient, due: ContinuousClock.Instant) async throws -> Outcome {
        var headers: [(String, String)] = []
        if request.kind == .restock, let token = plan.adminToken { headers.append(("Authorization", "Bearer \(token)")) }
        var outcome = Outcome(request: request, status: "no answer", microseconds: 0)
        do {
            let path = request.kind == .info ? plan.infoPath + String(request.book) : request.path
            let reply = try await client.send(
                HTTPMethod(rawValue: request.method), plan.url + path, body: request.body.map { ByteBuffer(string: $0) },
                headers: headers, timeout: plan.timeout)
            outcome.status = String(reply.status)
            outcome.cache = reply.headers.first(name: "X-Cache")
            outcome.servedBy = reply.headers.first(name: "X-Served-By")
        } catch let error as CancellationError {
            throw error
        } catch {}
        outcome.microseconds = UInt64(max(1, (ContinuousClock.now - due).seconds * 1_000_000))
        return outcome
    }
}

/// Counts of one run, merged from every request's outcome.
struct Tally: Sendable {
    var latency: [RequestKind: Histogram<UInt64>] = [:]
    var statuses: [RequestKind: [String: Int]] = [:]
    var cacheHits = 0
    var cacheMisses = 0
    var servedBy: [String: Int] = [:]
    var purchased: [Int: Int] = [:]
    var restocked: [Int: Int] = [:]
    /// Purchases and restocks that got no answer: they may or may not have been applied.
    var unansweredPurchases: [Int: Int] = [:]
    var unansweredRestocks: [Int: Int] = [:]

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    mutating func record(_ outcome: LoadRunner.Outcome) {
        let kind = outcome.request.kind
        _ = latency[kind, default: Self.histogram()].record(outcome.microseconds)
        statuses[kind, default: [:]][outcome.status, default: 0] += 1
        if let cache = outcome.cache {
            if cache == "HIT" { cacheHits += 1 } else { cacheMisses += 1 }
        }
        if let served = outcome.servedBy { servedBy[served, default: 0] += 1 }
        if outcome.status == "no answer" || outcome.status.hasPrefix("5") {
            if kind == .purchase { unansweredPurchases[outcome.request.book, default: 0] += 1 }
            if kind == .restock { unansweredRestocks[outcome.request.book, default: 0] += outcome.request.count }
        }
        guard outcome.status == "200" else { return }
        if kind == .purchase { purchased[outcome.request.book, default: 0] += 1 }
        if kind == .restock { restocked[outcome.request.book, default: 0] += outcome.request.count }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Prints a progress line at once, even when output goes to a file or a pipe.
public func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
