import BazarReplication
import BazarService
import Hummingbird

/// Builds a catalog replica: its database, replicator, routes and background services.
public func buildCatalogApplication(_ configuration: CatalogConfiguration) async throws -> some ApplicationProtocol {
    let runtime = try await ReplicaRuntime(server: configuration.server, replica: configuration.replica) {
        CatalogStore(database: $0)
    }
    let store = CatalogStore(database: runtime.database)
    let notifier = FrontEndNotifier(
        frontEnds: configuration.frontEnds, client: runtime.client, tokens: configuration.server.tokens,
        group: runtime.group, lease: configuration.replica.replication.lease,
        heartbeat: configuration.replica.replication.heartbeat, logger: runtime.logger)
    let controller = CatalogController(
        store: store, replicator: runtime.replicator, forwarding: runtime.forwarding, notifier: notifier,
        settings: configuration.server)
    var app = runtime.makeApplication(routes: [controller.readRoutes, controller.purchaseRoutes, controller.adminRoutes]) {
        try await store.prepare()
    }
    app.addServices(notifier)
    return app
}
