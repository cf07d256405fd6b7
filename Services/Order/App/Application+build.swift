import BazarReplication
import BazarService
import Hummingbird

/// Builds an order replica: its database, replicator, routes and background services.
public func buildOrderApplication(_ configuration: OrderConfiguration) async throws -> some ApplicationProtocol {
    let runtime = try await ReplicaRuntime(server: configuration.server, replica: configuration.replica) {
        OrderStore(database: $0)
    }
    let store = OrderStore(database: runtime.database)
    let controller = OrderController(
        store: store, replicator: runtime.replicator, forwarding: runtime.forwarding,
        catalog: CatalogPurchases(
            catalogs: ReplicaRotation(configuration.catalogs), client: runtime.client,
            settings: configuration.server),
        settings: configuration.server)
    return runtime.makeApplication(routes: [controller.routes], prepare: store.prepare)
}
