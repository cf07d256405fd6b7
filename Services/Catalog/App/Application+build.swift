import BazarModels
import BazarService
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds a catalog replica: its database, replicator, routes and background services.
public func buildCatalogApplication(_ configuration: CatalogConfiguration) async throws -> some ApplicationProtocol {
    let me = configuration.replica.me
    let logger = ServiceApplication.logger(name: me.description, level: configuration.server.logLevel)
    let database = try await DatabaseClient.open(url: configuration.replica.databaseURL, logger: logger)
    let store = CatalogStore(database: database)
    let client = BackendClient()
    let group = ReplicaGroup(me: me, peers: configuration.replica.peers, allNames: configuration.replica.allNames)
    let replicator = Replicator(
        group: group, log: ReplicationLog(database: database), client: client, tokens: configuration.server.tokens,
        lease: configuration.replica.lease, heartbeat: configuration.replica.heartbeat, logger: logger,
        applyEffect: store.apply)

    let routes = ServiceApplication.makeRoutes()
    CatalogController(
        store: store, replicator: replicator,
        forwarding: LeaderForwarding(group: group, client: client, timeout: configuration.server.backendTimeout),
        notifier: FrontEndNotifier(frontEnds: configuration.frontEnds, client: client, tokens: configuration.server.tokens, logger: logger),
        settings: configuration.server
    ).add(to: routes)
    ReplicationRoutes(replicator: replicator, tokens: configuration.server.tokens).add(to: routes)

    var app = ServiceApplication.make(
        routes: routes, name: me.description, settings: configuration.server,
        services: [database, client, replicator], logger: logger)
    app.beforeServerStarts {
        try await store.prepare()
        configuration.server.tokens.warnIfOpen(logger: logger)
        let leader = await group.leader
        logger.info("catalog replica starting", metadata: [
            "replica": "\(me)", "database": "\(database.description)", "leader": "\(leader)",
            "port": "\(configuration.server.port)",
        ])
    }
    return app
}
