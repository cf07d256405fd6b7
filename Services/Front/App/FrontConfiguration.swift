import ArgumentParser
import BazarService

/// Everything the front end needs to start.
public struct FrontConfiguration: Sendable {
    public var server: ServerSettings
    public var catalogs: [ReplicaEndpoint]
    public var orders: [ReplicaEndpoint]
    public var cacheCapacity: Int
    /// Cached answers older than this are not served; nil: no expiry.
    public var cacheTimeToLive: Duration?
    /// How catalog reads (and admin writes) are spread over the catalog replicas.
    public var catalogPolicy: BalancingPolicy
    /// How purchases and order look-ups are spread over the order replicas.
    public var orderPolicy: BalancingPolicy
    /// The defaults of `healthInterval` and `lease` (what a test may wait for is derived from them).
    public static let defaultHealthInterval = Duration.milliseconds(250)
    public static let defaultLease = Duration.milliseconds(1000)

    /// How often every replica's readiness is checked.
    public var healthInterval: Duration
    /// The cache serves only within this long of the last word from a catalog leader.
    public var lease: Duration
    /// Where catalog leaders call this front end back; nil: the address they see it call from.
    public var advertisedURL: String?

    public init(server: ServerSettings, catalogs: [ReplicaEndpoint], orders: [ReplicaEndpoint], cacheCapacity: Int,
                cacheTimeToLive: Duration? = nil, catalogPolicy: BalancingPolicy = .roundRobin, orderPolicy: BalancingPolicy = .roundRobin,
                healthInterval: Duration = FrontConfiguration.defaultHealthInterval, lease: Duration = FrontConfiguration.defaultLease,
                advertisedURL: String? = nil) {
        self.server = server
        self.catalogs = catalogs
        self.orders = orders
        self.cacheCapacity = cacheCapacity
        self.cacheTimeToLive = cacheTimeToLive
        self.catalogPolicy = catalogPolicy
        self.orderPolicy = orderPolicy
        self.healthInterval = healthInterval
        self.lease = lease
        self.advertisedURL = advertisedURL
    }
}

public struct FrontOptions: ParsableArguments, Sendable {
    @Option(help: "Catalog replicas as name=url,…. [env: BAZAR_CATALOGS, default: catalog-1=http://127.0.0.1:8081,catalog-2=http://127.0.0.1:8082]")
    public var catalogs: String?

    @Option(help: "Order replicas as name=url,…. [env: BAZAR_ORDERS, default: order-1=http://127.0.0.1:8083,order-2=http://127.0.0.1:8084]")
    public var orders: String?

    @Option(help: "Entries the read cache holds; 0 turns it off. [env: BAZAR_CACHE_CAPACITY, default: 1000]")
    public var cacheCapacity: Int?

    @Option(help: "Time to live of a cached answer in milliseconds; 0 means no expiry. [env: BAZAR_CACHE_TTL_MS, default: 0]")
    public var cacheTtlMs: Int?

    @Option(help: "Balancing of catalog reads: round-robin, random or least-latency. [env: BAZAR_CATALOG_POLICY, default: round-robin]")
    public var catalogPolicy: String?

    @Option(help: "Balancing of purchases and order look-ups: round-robin, random or least-latency. [env: BAZAR_ORDER_POLICY, default: round-robin]")
    public var orderPolicy: String?

    @Option(help: "Interval of health checks of every replica, in milliseconds. [env: BAZAR_HEALTH_INTERVAL_MS, default: 250]")
    public var healthIntervalMs: Int?

    @Option(help: "The cache serves only within this long (ms) of the last word from a catalog leader. [env: BAZAR_LEASE_MS, default: 1000]")
    public var leaseMs: Int?

    @Option(help: "Where catalog leaders call this front end back, as http://host:port. [env: BAZAR_ADVERTISE_URL, default: the address they see it call from, at its port]")
    public var advertiseUrl: String?

    public init() {}

    static func advertisedURL(_ text: String) throws -> String {
        let urls = Setting.urls(text)
        guard urls.count == 1, let url = urls.first, url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ConfigurationError("BAZAR_ADVERTISE_URL must be one http:// URL, not '\(text)'")
        }
        return url
    }

    public func resolve(server: ServerOptions) throws -> FrontConfiguration {
        let capacity = try Setting.int(cacheCapacity, env: "BAZAR_CACHE_CAPACITY", default: 1000)
        guard capacity >= 0 else { throw ConfigurationError("BAZAR_CACHE_CAPACITY must be 0 or more") }
        return FrontConfiguration(
            server: try server.resolve(defaultPort: LocalTopology.standard.frontPort),
            catalogs: try Setting.replicas(
                Setting.string(catalogs, env: "BAZAR_CATALOGS", default: LocalTopology.standard.replicaList("catalog")),
                setting: "BAZAR_CATALOGS"),
            orders: try Setting.replicas(
                Setting.string(orders, env: "BAZAR_ORDERS", default: LocalTopology.standard.replicaList("order")),
                setting: "BAZAR_ORDERS"),
            cacheCapacity: capacity,
            cacheTimeToLive: try Setting.optionalMilliseconds(cacheTtlMs, env: "BAZAR_CACHE_TTL_MS"),
            catalogPolicy: try BalancingPolicy.parse(
                Setting.string(catalogPolicy, env: "BAZAR_CATALOG_POLICY", default: "round-robin"), setting: "BAZAR_CATALOG_POLICY"),
            orderPolicy: try BalancingPolicy.parse(
                Setting.string(orderPolicy, env: "BAZAR_ORDER_POLICY", default: "round-robin"), setting: "BAZAR_ORDER_POLICY"),
            healthInterval: .milliseconds(try Setting.positiveInt(
                healthIntervalMs, env: "BAZAR_HEALTH_INTERVAL_MS", default: Int(FrontConfiguration.defaultHealthInterval.milliseconds))),
            lease: .milliseconds(try Setting.positiveInt(leaseMs, env: "BAZAR_LEASE_MS", default: Int(FrontConfiguration.defaultLease.milliseconds))),
            advertisedURL: try Setting.optionalString(advertiseUrl, env: "BAZAR_ADVERTISE_URL").map(Self.advertisedURL))
    }
}
