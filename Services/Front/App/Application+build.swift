import BazarService
import Hummingbird

/// Builds the front end: the cache, the replica rotations and the public routes.
public func buildFrontApplication(_ configuration: FrontConfiguration) async throws -> some ApplicationProtocol {
    let logger = ServiceApplication.logger(name: "front", level: configuration.server.logLevel)
    let client = BackendClient(connectionsPerHost: configuration.server.backendConnections)
    let cache = ReadCache(capacity: configuration.cacheCapacity, timeToLive: configuration.cacheTimeToLive, lease: configuration.lease)
    let catalogs = ReplicaRotation(configuration.catalogs, policy: configuration.catalogPolicy, healthChecked: true)
    let orders = ReplicaRotation(configuration.orders, policy: configuration.orderPolicy, healthChecked: true)
    let router = ServiceApplication.makeRouter(settings: configuration.server)
    let board = ReplicaBoard(replicas: configuration.catalogs + configuration.orders)
    let controller = FrontController(
        reads: CatalogReads(cache: cache, catalogs: catalogs, client: client, settings: configuration.server),
        cache: cache, catalogs: catalogs, orders: orders, client: client,
        settings: configuration.server, board: board)
    router.add(controller.publicRoutes, controller.adminRoutes, controller.internalRoutes, controller.operationalRoutes)
    let health = HealthWatch(
        catalogs: catalogs, orders: orders, board: board, client: client, interval: configuration.healthInterval, logger: logger)
    let subscription = CatalogSubscription(
        catalogs: configuration.catalogs, client: client, tokens: configuration.server.tokens, cache: cache,
        port: configuration.server.port, url: configuration.advertisedURL, interval: configuration.healthInterval,
        lease: configuration.lease, logger: logger)
    var app = ServiceApplication.make(
        router: router, name: "front", settings: configuration.server, services: [client, health, subscription], logger: logger)
    app.beforeServerStarts {
        logger.info("front end starting", metadata: [
            "port": "\(configuration.server.port)", "cache_capacity": "\(configuration.cacheCapacity)",
            "cache_ttl": "\(configuration.cacheTimeToLive.map { "\($0)" } ?? "off")",
            "catalog_policy": "\(configuration.catalogPolicy)", "order_policy": "\(configuration.orderPolicy)",
            "backend_connections": "\(configuration.server.backendConnections)",
            "catalogs": "\(configuration.catalogs.map(\.name))", "orders": "\(configuration.orders.map(\.name))",
        ])
    }
    return app
}
