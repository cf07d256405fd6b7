import BazarModels
import Prometheus
import Synchronization

/// Spreads calls over the replicas of a service by a `BalancingPolicy`, over those that are up.
/// A call moves on to the next replica when one gives no answer or answers 503 (it is
/// down, catching up, or its service is changing leader), and keeps going round, with a short
/// pause between rounds, until its deadline. A write goes first to the replica that answered the
/// last one (`X-Served-By`: the leader, itself or through a follower that forwarded it), since any
/// other replica would only forward it there: a hint, never a rule, so a stale one costs a hop.
public final class ReplicaRotation: Sendable {
    public let replicas: [ReplicaEndpoint]
    public let policy: BalancingPolicy
    /// Response times of calls, kept for the least-latency policy.
    public let responseTimes = ResponseTimes()
    /// Share of least-latency calls that go first to a replica other than the fastest.
    public let probeShare: Double
    public let healthChecked: Bool
    private let next = Mutex<UInt64>(0)
    /// The replicas marked down, with when (or when a write last tried one of them anyway).
    private let down: Mutex<[ReplicaName: ContinuousClock.Instant]>
    /// How often a write goes first to the last writer although it is marked down (below).
    let downWriterRetry: Duration
    /// The replica that answered the last write: the leader, as far as this caller knows.
    private let lastWriter = Mutex<ReplicaName?>(nil)
    /// Each replica's call metrics, made once: a call only bumps them.
    private let metrics: [ReplicaName: CallMetrics]

    /// `healthChecked`: a health check (`HealthWatch`) keeps the down marks current, and every
    /// replica counts as down until it has seen it.
    public init(
        _ replicas: [ReplicaEndpoint], policy: BalancingPolicy = .roundRobin, probeShare: Double = 0.05, healthChecked: Bool = false,
        downWriterRetry: Duration = .seconds(5)
    ) {
        self.replicas = replicas
        self.healthChecked = healthChecked
        self.policy = policy
        self.probeShare = probeShare
        self.downWriterRetry = downWriterRetry
        let now = ContinuousClock.now
        self.down = Mutex(healthChecked ? Dictionary(replicas.map { ($0.name, now) }, uniquingKeysWith: { first, _ in first }) : [:])
        self.metrics = Dictionary(replicas.map { ($0.name, CallMetrics($0.name)) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether any replica is up.
    public var anyUp: Bool { down.withLock { $0.count } < replicas.count }

    /// The replicas to try, in the order the policy prefers. With health checks, those marked
    /// down are left out while another is up (checks lag behind a recovery, so with every replica
    /// down all are tried); without, they go last, so that a call finds out when they recover.
    /// `write`: the replica that answered the last write goes first.
    public func turnOrder(write: Bool = false) -> [ReplicaEndpoint] {
        let down = self.down.withLock { $0 }
        let up = replicas.filter { down[$0.name] == nil }
        var order = healthChecked ? preferred(up.isEmpty ? replicas : up) : preferred(up) + replicas.filter { down[$0.name] != nil }
        if write, let writer = lastWriter.withLock({ $0 }), let index = order.firstIndex(where: { $0.name == writer }), index > 0,
           mayGoFirst(writer) {
            order.insert(order.remove(at: index), at: 0)
        }
        return order
    }

    /// Whether the last writer may go first. One marked down does only once per `downWriterRetry`
    /// (without health checks nothing else marks it up again): a leader that stalled once and is
    /// back gets writes directly again, and one still cut off costs a timeout only that often,
    /// not every write.
    private func mayGoFirst(_ writer: ReplicaName, now: ContinuousClock.Instant = .now) -> Bool {
        down.withLock { down in
            guard let since = down[writer] else { return true }
            guard now - since >= downWriterRetry else { return false }
            down[writer] = now
            return true
        }
    }

    /// The replica a write's answer names as the one that made it, if it is one of these.
    private func noteWriter(of reply: BackendClient.Reply) {
        guard let servedBy = reply.headers.first(name: "X-Served-By"),
              let writer = replicas.first(where: { $0.name.description == servedBy })?.name else { return }
        lastWriter.withLock { $0 = writer }
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

    public func markDown(_ name: ReplicaName) { down.withLock { $0[name] = .now } }
    public func markUp(_ name: ReplicaName) { _ = down.withLock { $0.removeValue(forKey: name) } }
    public func isUp(_ name: ReplicaName) -> Bool { down.withLock { $0[name] == nil } }

    /// Each replica's name and whether it is in rotation.
    public func states() -> [(name: ReplicaName, up: Bool)] {
        let down = self.down.withLock { $0 }
        return replicas.map { ($0.name, down[$0.name] == nil) }
    }

    /// Calls replicas in turn until one answers with something other than 503, or `deadline`
    /// passes: then 503 `unavailable`. `attempt` gets the time left for its own call: `perAttempt`
    /// at first, twice as long after each attempt that timed out. A service slowed down by load
    /// then gets the time its work takes instead of more retries than it can take; one that is
    /// down still fails over at once (it refuses the connection). `write`: the call is one that
    /// only the leader makes (followers forward it), so it goes first where the last one was made.
    public func call(
        service: String, deadline: Duration, perAttempt: Duration, write: Bool = false,
        _ attempt: (ReplicaEndpoint, Duration) async throws -> BackendClient.Reply
    ) async throws -> (reply: BackendClient.Reply, replica: ReplicaEndpoint) {
        let end = ContinuousClock.now + deadline
        var pause = Duration.milliseconds(50)
        var patience = perAttempt
        while true {
            for replica in turnOrder(write: write) {
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
                        if write { noteWriter(of: reply) }
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
            registry.counter("bazar_backend_calls_total", labels: [("replica", replica.description), ("outcome", outcome)],
                help: "Calls to a replica, by how they ended: answered, unavailable (503: not serving, or changing leader) or unreachable (no answer in time, or refused).")
        }
        answered = calls("answered")
        unavailable = calls("unavailable")
        unreachable = calls("unreachable")
        duration = registry.durationHistogram("bazar_backend_call_duration_seconds", labels: [("replica", replica.description)], buckets: Self.buckets,
            help: "Time an answered call to a replica took, in seconds.")
    }
}
