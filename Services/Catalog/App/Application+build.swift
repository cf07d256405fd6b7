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
    let routes = ServiceApplication.makeRoutes(settings: configuration.server)
    CatalogController(
        store: store, replicator: runtime.replicator, forwarding: runtime.forwarding, notifier: notifier,
        settings: configuration.server
    ).add(to: routes)
    var app = runtime.makeApplication(routes: routes) { try await store.prepare() }
    app.addServices(notifier)
    return app
}
