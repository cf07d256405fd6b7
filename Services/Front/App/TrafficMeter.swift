import BazarModels
import BazarService
import Histogram
import Hummingbird
import Synchronization

/// The front end's client traffic over the last seconds, in one-second buckets: requests, 5xx
/// answers and their latency (the status page's rates and percentiles). A lock, not an actor:
/// every request records here, and a hop per request would cost more than the count.
final class TrafficMeter: Sendable {
    /// Seconds the rates and percentiles cover (the second under way is not counted).
    static let window = 10

    private struct Bucket {
        var second: Int64 = -1
        var requests = 0
        var errors = 0
        var latency = TrafficMeter.histogram()
    }

    private struct State {
        var buckets = Array(repeating: Bucket(), count: TrafficMeter.window + 1)
        var requests = 0
        var errors = 0
    }

    private let state = Mutex(State())
    private let started = ContinuousClock.now

    static func histogram() -> Histogram<UInt64> {
        // Microseconds, up to a minute, two significant digits: enough for a p99 on a screen.
        Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .two)
    }

    private func second(_ instant: ContinuousClock.Instant) -> Int64 { (instant - started).components.seconds }

    /// An answer given at `end`, `elapsed` after its request came.
    func record(status: Int, elapsed: Duration, end: ContinuousClock.Instant) {
        let now = second(end)
        let micros = UInt64(max(0, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
        state.withLock { state in
            let index = Int(now % Int64(state.buckets.count))
            if state.buckets[index].second != now { state.buckets[index] = Bucket(second: now) }
            state.buckets[index].requests += 1
            state.requests += 1
            if status >= 500 {
                state.buckets[index].errors += 1
                state.errors += 1
            }
            _ = state.buckets[index].latency.record(min(micros, 60_000_000))
        }
    }

    /// The last `window` whole seconds (fewer just after start).
    func snapshot() -> FrontTraffic {
        let now = second(.now)
        let span = Int(min(Int64(Self.window), max(1, now)))
        return state.withLock { state in
            var requests = 0, errors = 0
            var latency = Self.histogram()
            for bucket in state.buckets where bucket.second < now && bucket.second >= now - Int64(span) {
                requests += bucket.requests
                errors += bucket.errors
                latency.add(bucket.latency)
            }
            func millis(_ quantile: Double) -> Double? {
                latency.totalCount == 0 ? nil : Double(latency.valueAtPercentile(quantile)) / 1000
            }
            return FrontTraffic(
                windowSeconds: Double(span), requestsPerSecond: Double(requests) / Double(span),
                errorsPerSecond: Double(errors) / Double(span), p50Ms: millis(50), p99Ms: millis(99),
                requests: state.requests, errors: state.errors)
        }
    }
}

/// Counts the answers of the routes it is added to (the public and admin collections) in a
/// `TrafficMeter`, errors included with the status they are answered with.
struct TrafficMeterMiddleware: RouterMiddleware {
    typealias Context = BazarRequestContext
    let meter: TrafficMeter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            let end = ContinuousClock.now
            meter.record(status: response.status.code, elapsed: end - start, end: end)
            return response
        } catch {
            let end = ContinuousClock.now
            meter.record(status: (error as? any HTTPResponseError)?.status.code ?? 500, elapsed: end - start, end: end)
            throw error
        }
    }
}
