import BazarModels
import BazarService
import Hummingbird
import Logging
import ServiceLifecycle

/// The parts every replica of a replicated service is made of: its database, the HTTP client to
/// its peers, its place in the replica group, and the replicator that carries its writes.
public struct ReplicaRuntime: Sendable {
    public let logger: Logger
    public let database: DatabaseClient
    public let client: BackendClient
    public let group: ReplicaGroup
    public let replicator: Replicator
    public let forwarding: LeaderForwarding
    public let server: ServerSettings

    /// Opens the database and wires the replicator to the service's store (made on that database).
    /// A service whose writes are announced to caches before reads may show them (the catalog's,
    /// to the front ends) says so with `announcesWrites`.
    public init<Store: ReplicatedStore>(
        server: ServerSettings, replica: ReplicaSettings, announcesWrites: Bool = false, store: (DatabaseClient) -> Store
    ) async throws {
        self.server = server
        logger = ServiceApplication.logger(name: replica.me.description, level: server.logLevel)
        database = try await DatabaseClient.open(url: replica.databaseURL, logger: logger)
        client = BackendClient(connectionsPerHost: server.backendConnections)
        group = ReplicaGroup(me: replica.me, peers: replica.peers)
        replicator = Replicator(
            group: group, log: ReplicationLog(database: database), client: client, tokens: server.tokens,
            settings: replica.replication, logger: logger, store: store(database), announcesWrites: announcesWrites)
        forwarding = LeaderForwarding(group: group, client: client, timeout: server.backendTimeout, longest: server.requestDeadline)
    }

    /// The application: the service's routes plus the replication routes; `prepare` (schema,
    /// seed) runs before the server accepts requests.
    public func makeApplication(
        routes: [RouteTable<BazarRequestContext>], prepare: @escaping @Sendable () async throws -> Void
    ) -> Application<RouterResponder<BazarRequestContext>> {
        let router = ServiceApplication.makeRouter(settings: server)
        let replication = ReplicationRoutes(replicator: replicator, tokens: server.tokens)
        for table in routes + [replication.internalRoutes, replication.operationalRoutes] { router.add(table) }
        let me = group.me
        var app = ServiceApplication.make(
            router: router, name: me.description, settings: server,
            services: [database, client, replicator], logger: logger)
        app.beforeServerStarts { [logger, database, replicator, server] in
            try await prepare()
            try await replicator.open()
            let seq = await replicator.currentSeq()
            logger.info("replica starting", metadata: [
                "replica": "\(me)", "database": "\(database.description)", "port": "\(server.port)", "seq": "\(seq)",
            ])
        }
        return app
    }
}
