/// How a service's calls are spread over the replicas that are up.
public enum BalancingPolicy: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Each replica in turn.
    case roundRobin = "round-robin"
    /// A replica chosen uniformly at random for each call.
    case random
    /// The replica with the lowest recent response time (an exponentially weighted moving
    /// average), except for an occasional call that probes a slower one to see if it recovered.
    case leastLatency = "least-latency"

    public var description: String { rawValue }

    public static func parse(_ text: String, setting: String) throws -> BalancingPolicy {
        guard let policy = BalancingPolicy(rawValue: text.lowercased()) else {
            throw ConfigurationError("\(setting)=\(text) is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return policy
    }
}
