import ArgumentParser
import BazarReplication
import BazarService

/// Everything an order replica needs to start.
public struct OrderConfiguration: Sendable {
    public var server: ServerSettings
    public var replica: ReplicaSettings
    /// The catalog replicas that purchases take copies from.
    public var catalogs: [ReplicaEndpoint]

    public init(server: ServerSettings, replica: ReplicaSettings, catalogs: [ReplicaEndpoint]) {
        self.server = server
        self.replica = replica
        self.catalogs = catalogs
    }
}

/// The order service's own flags, beside the server and replica ones.
public struct OrderOptions: ParsableArguments, Sendable {
    @Option(help: "Catalog replicas as name=url,…. [env: BAZAR_CATALOGS, default: catalog-1=http://127.0.0.1:8081,catalog-2=http://127.0.0.1:8082]")
    public var catalogs: String?

    public init() {}

    public func resolve(server: ServerOptions, replica: ReplicaOptions) throws -> OrderConfiguration {
        let replicaSettings = try replica.resolve(service: "order")
        return OrderConfiguration(
            server: try server.resolve(defaultPort: replicaSettings.defaultPort),
            replica: replicaSettings,
            catalogs: try Setting.replicas(
                Setting.string(catalogs, env: "BAZAR_CATALOGS", default: LocalTopology.standard.replicaList("catalog")),
                setting: "BAZAR_CATALOGS"))
    }
}
