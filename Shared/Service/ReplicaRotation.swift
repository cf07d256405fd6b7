import BazarModels
import Prometheus
import Synchronization

/// Spreads calls over the replicas of a service by a `BalancingPolicy`, over those that are up.
/// A call moves on to the next replica when one gives no answer or answers 503 (it is
/// down, catching up, or its service is changing leader), and keeps going round, with a short
/// pause between rounds, until its deadline.
public final class ReplicaRotation: Sendable {
    public let replicas: [ReplicaEndpoint]
    public let policy: BalancingPolicy
    /// Response times of calls, kept for the least-latency policy.
    public let responseTimes = ResponseTimes()
    /// Share of least-latency calls that go first to a replica other than the fastest.
    public let probeShare: Double
    public let healthChecked: Bool
    private let next = Mutex<UInt64>(0)
    private let down: Mutex<Set<ReplicaName>>
    /// Each replica's call metrics, made once: a call only bumps them.
    private let metrics: [ReplicaName: CallMetrics]

    /// `healthChecked`: a health check (`HealthWatch`) keeps the down marks current, and every
    /// replica counts as down until it has seen it.
    public init(_ replicas: [ReplicaEndpoint], policy: BalancingPolicy = .roundRobin, probeShare: Double = 0.05, healthChecked: Bool = false) {
        self.replicas = replicas
        self.healthChecked = healthChecked
        self.policy = policy
        self.probeShare = probeShare
        self.down = Mutex(healthChecked ? Set(replicas.map(\.name)) : [])
        self.metrics = Dictionary(replicas.map { ($0.name, CallMetrics($0.name)) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether any replica is up.
    public var anyUp: Bool { down.withLock { $0.count } < replicas.count }

    /// The replicas to try, in the order the policy prefers. With health checks, those marked
    /// down are left out while another is up (checks lag behind a recovery, so with every replica
    /// down all are tried); without, they go last, so that a call finds out when they recover.
    public func turnOrder() -> [ReplicaEndpoint] {
        let down = self.down.withLock { $0 }
        let up = replicas.filter { !down.contains($0.name) }
        if healthChecked { return preferred(up.isEmpty ? replicas : up) }
        return preferred(up) + replicas.filter { down.contains($0.name) }
    }

    /// Only least-latency reads the response times; the others need not keep them.
    private func record(_ name: ReplicaName, _ elapsed: Duration) {
        if policy == .leastLatency { responseTimes.record(name, elapsed) }
    }

    private func preferred(_ up: [ReplicaEndpoint]) -> [ReplicaEndpoint] {
        guard up.count > 1 else { return up }
        switch policy {
        case .roundRobin:
            let start = next.withLock { value in
                defer { value &+= 1 }
                return value
            }
            return (0..<up.count).map { up[Int((start &+ UInt64($0)) % UInt64(up.count))] }
        case .random:
            return up.shuffled()
        case .leastLatency:
            // A replica not yet measured sorts first, so that it gets measured.
            let averages = responseTimes.snapshot()
            var order = up.sorted { averages[$0.name] ?? 0 < averages[$1.name] ?? 0 }
            if Double.random(in: 0..<1) < probeShare {
                order.swapAt(0, Int.random(in: 1..<order.count))
            }
            return order
        }
    }

    public func markDown(_ name: ReplicaName) { _ = down.withLock { $0.insert(name) } }
    public func markUp(_ name: ReplicaName) { _ = down.withLock { $0.remove(name) } }
    public func isUp(_ name: ReplicaName) -> Bool { !down.withLock { $0.contains(name) } }

    /// Each replica's name and whether it is in rotation.
    public func states() -> [(name: ReplicaName, up: Bool)] {
        let down = self.down.withLock { $0 }
        return replicas.map { ($0.name, !down.contains($0.name)) }
    }

    /// Calls replicas in turn until one answers with something other than 503, or `deadline`
    /// passes: then 503 `unavailable`. `attempt` gets the time left for its own call: `perAttempt`
    /// at first, twice as long after each attempt that timed out. A service slowed down by load
    /// then gets the time its work takes instead of more retries than it can take; one that is
    /// down still fails over at once (it refuses the connection).
    public func call(
        service: String, deadline: Duration, perAttempt: Duration,
        _ attempt: (ReplicaEndpoint, Duration) async throws -> BackendClient.Reply
    ) async throws -> (reply: BackendClient.Reply, replica: ReplicaEndpoint) {
        let end = ContinuousClock.now + deadline
        var pause = Duration.milliseconds(50)
        var patience = perAttempt
        while true {
            for replica in turnOrder() {
                let left = end - .now
                guard left > .zero else { break }
                let started = ContinuousClock.now
                let timeout = min(patience, left)
                let counted = metrics[replica.name]
                do {
                    let reply = try await attempt(replica, timeout)
                    if reply.status != 503 {
                        record(replica.name, .now - started)
                        counted?.answered.increment()
                        counted?.duration.record(ContinuousClock.now - started)
                        markUp(replica.name)
                        return (reply, replica)
                    }
                    // Not serving: count it as slow as a timeout, so least-latency turns away.
                    record(replica.name, perAttempt)
                    counted?.unavailable.increment()
                } catch is BackendClient.Unreachable {
                    counted?.unreachable.increment()
                    record(replica.name, perAttempt)
                    markDown(replica.name)
                    if ContinuousClock.now - started >= timeout { patience *= 2 }
                }
            }
            guard end - .now > pause else { break }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(400))
        }
        throw APIError.unavailable("No \(service) replica can serve this request right now.")
    }
}

/// A replica's calls in `/metrics`: how each attempt ended, and how long answered ones took.
struct CallMetrics: Sendable {
    let answered, unavailable, unreachable: Counter
    let duration: DurationHistogram

    static let buckets: [Duration] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000].map { .milliseconds($0) }

    init(_ replica: ReplicaName, registry: PrometheusCollectorRegistry = ServiceMetrics.registry) {
        func calls(_ outcome: String) -> Counter {
            registry.makeCounter(
                name: "bazar_backend_calls_total", labels: [("replica", replica.description), ("outcome", outcome)],
                help: "Calls to a replica, by how they ended: answered, unavailable (503: not serving, or changing leader) or unreachable (no answer in time, or refused).")
        }
        answered = calls("answered")
        unavailable = calls("unavailable")
        unreachable = calls("unreachable")
        duration = registry.makeDurationHistogram(
            name: "bazar_backend_call_duration_seconds", labels: [("replica", replica.description)], buckets: Self.buckets,
            help: "Time an answered call to a replica took, in seconds.")
    }
}
