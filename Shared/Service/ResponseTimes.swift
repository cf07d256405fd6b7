import BazarModels
import Synchronization

/// Each replica's recent response time, as an exponentially weighted moving average of the
/// calls made to it: the least-latency policy's view of the replicas.
public final class ResponseTimes: Sendable {
    /// Weight of the newest sample: 0.2 forgets a step change within about ten calls.
    public let smoothing: Double
    private let averages = Mutex<[ReplicaName: Double]>([:])

    public init(smoothing: Double = 0.2) {
        self.smoothing = smoothing
    }

    public func record(_ name: ReplicaName, _ elapsed: Duration) {
        let sample = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        averages.withLock { averages in
            averages[name] = averages[name].map { $0 + smoothing * (sample - $0) } ?? sample
        }
    }

    /// The average in milliseconds; nil before the first call.
    public func average(_ name: ReplicaName) -> Double? {
        averages.withLock { $0[name] }
    }

    public func snapshot() -> [ReplicaName: Double] {
        averages.withLock { $0 }
    }
}
