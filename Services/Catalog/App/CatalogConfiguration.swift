import BazarReplication
import BazarService

/// Everything a catalog replica needs to start. (Front ends are not configured here: they
/// subscribe to the leader's changes themselves, see `FrontEndNotifier`.)
public struct CatalogConfiguration: Sendable {
    public var server: ServerSettings
    public var replica: ReplicaSettings

    public init(server: ServerSettings, replica: ReplicaSettings) {
        self.server = server
        self.replica = replica
    }

    /// From the server and replica flags (and their `BAZAR_…` variables).
    public static func resolve(server: ServerOptions, replica: ReplicaOptions) throws -> CatalogConfiguration {
        let replicaSettings = try replica.resolve(service: "catalog")
        return CatalogConfiguration(server: try server.resolve(defaultPort: replicaSettings.defaultPort), replica: replicaSettings)
    }
}
