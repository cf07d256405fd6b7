import BazarReplication
import BazarService
import Hummingbird

/// Builds a catalog replica: its database, replicator, routes and background services.
public func buildCatalogApplication(_ configuration: CatalogConfiguration) async throws -> some ApplicationProtocol {
    // Writes are announced to the front ends before any answer shows them.
    let runtime = try await ReplicaRuntime(server: configuration.server, replica: configuration.replica, announcesWrites: true) {
        CatalogStore(database: $0)
    }
    let store = CatalogStore(database: runtime.database)
    let notifier = FrontEndNotifier(
        client: runtime.client, tokens: configuration.server.tokens, group: runtime.group, replicator: runtime.replicator,
        lease: configuration.replica.replication.lease, logger: runtime.logger)
    let subscriptions = SubscriptionRoutes(notifier: notifier, tokens: configuration.server.tokens)
    let controller = CatalogController(
        store: store, replicator: runtime.replicator, forwarding: runtime.forwarding, notifier: notifier,
        settings: configuration.server)
    return runtime.makeApplication(
        routes: [controller.readRoutes, controller.purchaseRoutes, controller.adminRoutes, subscriptions.internalRoutes]
    ) {
        try await store.prepare()
    }
}
