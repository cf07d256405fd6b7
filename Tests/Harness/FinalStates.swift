import BazarCluster
import BazarModels
import BazarService

/// The replicas' states after a run, read from each replica directly.
public struct FinalStates: Sendable {
    public var catalogs: [String: [Book]]
    public var orders: [String: [Order]]
    /// How long after writes stopped the replicas were first found equal; nil if never.
    public var convergedAfter: Duration?

    /// Reads every replica until the catalogs agree and the order replicas agree, or until
    /// `within` has passed since `since` (then the last reading, unequal).
    public static func converged(layout: ClusterLayout, client: BackendClient, within: Duration, since: ContinuousClock.Instant) async throws -> FinalStates {
        let names = layout.replicaMembers.map(\.name)
        while true {
            var states = FinalStates(catalogs: [:], orders: [:])
            for name in names where name.hasPrefix("catalog-") {
                states.catalogs[name] = try? await client.send(.GET, layout.url(of: name) + "/books", timeout: .seconds(5)).decode(BookList.self).items
            }
            for name in names where name.hasPrefix("order-") {
                states.orders[name] = try? await client.send(.GET, layout.url(of: name) + "/orders?limit=100000", timeout: .seconds(5)).decode(OrderList.self).items
            }
            let everyoneAnswered = states.catalogs.count + states.orders.count == names.count
            let equal = Set(states.catalogs.values.map { $0 }).count == 1 && Set(states.orders.values.map { Set($0) }).count == 1
            if equal, everyoneAnswered, ContinuousClock.now - since <= within {
                states.convergedAfter = ContinuousClock.now - since
                return states
            }
            if ContinuousClock.now - since > within { return states }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
