import BazarModels
import Synchronization

/// Spreads calls over the replicas of a service, round-robin, healthy replicas first. A call
/// moves on to the next replica when one gives no answer or answers 503 (it is down, catching
/// up, or its service is changing leader), and keeps going round, with a short pause between
/// rounds, until its deadline.
public final class ReplicaRotation: Sendable {
    public let replicas: [ReplicaEndpoint]
    private let next = Mutex(0)
    private let down: Mutex<Set<ReplicaName>>

    /// `startDown`: count every replica down until a health check has seen it.
    public init(_ replicas: [ReplicaEndpoint], startDown: Bool = false) {
        self.replicas = replicas
        self.down = Mutex(startDown ? Set(replicas.map(\.name)) : [])
    }

    /// Whether any replica is up.
    public var anyUp: Bool { down.withLock { $0.count } < replicas.count }

    /// Every replica once, starting with the one whose turn it is; those marked down go last.
    public func turnOrder() -> [ReplicaEndpoint] {
        guard !replicas.isEmpty else { return [] }
        let start = next.withLock { value in
            defer { value = (value + 1) % replicas.count }
            return value
        }
        let rotated = (0..<replicas.count).map { replicas[(start + $0) % replicas.count] }
        let down = self.down.withLock { $0 }
        return rotated.filter { !down.contains($0.name) } + rotated.filter { down.contains($0.name) }
    }

    public func markDown(_ name: ReplicaName) { _ = down.withLock { $0.insert(name) } }
    public func markUp(_ name: ReplicaName) { _ = down.withLock { $0.remove(name) } }
    public func isUp(_ name: ReplicaName) -> Bool { !down.withLock { $0.contains(name) } }

    /// Calls replicas in turn until one answers with something other than 503, or `deadline`
    /// passes: then 503 `unavailable`. `attempt` gets the time left for its own call.
    public func call(
        service: String, deadline: Duration, perAttempt: Duration,
        _ attempt: (ReplicaEndpoint, Duration) async throws -> BackendClient.Reply
    ) async throws -> (reply: BackendClient.Reply, replica: ReplicaEndpoint) {
        let end = ContinuousClock.now + deadline
        var pause = Duration.milliseconds(50)
        while true {
            for replica in turnOrder() {
                let left = end - .now
                guard left > .zero else { break }
                do {
                    let reply = try await attempt(replica, min(perAttempt, left))
                    if reply.status != 503 {
                        markUp(replica.name)
                        return (reply, replica)
                    }
                } catch is BackendClient.Unreachable {
                    markDown(replica.name)
                }
            }
            guard end - .now > pause else { break }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(400))
        }
        throw APIError.unavailable("No \(service) replica can serve this request right now.")
    }
}
