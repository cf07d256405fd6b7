import ArgumentParser
import BazarReplication
import BazarService

/// Everything a catalog replica needs to start.
public struct CatalogConfiguration: Sendable {
    public var server: ServerSettings
    public var replica: ReplicaSettings
    /// Front ends to send cache invalidations to.
    public var frontEnds: [String]

    public init(server: ServerSettings, replica: ReplicaSettings, frontEnds: [String]) {
        self.server = server
        self.replica = replica
        self.frontEnds = frontEnds
    }
}

/// The catalog's own flags, beside the server and replica ones.
public struct CatalogOptions: ParsableArguments, Sendable {
    @Option(help: "Front ends to invalidate on writes, comma-separated URLs. [env: BAZAR_FRONTENDS, default: http://127.0.0.1:8080]")
    public var frontEnds: String?

    public init() {}

    public func resolve(server: ServerOptions, replica: ReplicaOptions) throws -> CatalogConfiguration {
        let replicaSettings = try replica.resolve(service: "catalog")
        return CatalogConfiguration(
            server: try server.resolve(defaultPort: replicaSettings.defaultPort),
            replica: replicaSettings,
            frontEnds: Setting.urls(Setting.string(frontEnds, env: "BAZAR_FRONTENDS", default: LocalTopology.standard.frontEndURL)))
    }
}
