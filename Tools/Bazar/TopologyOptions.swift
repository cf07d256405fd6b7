import ArgumentParser
import BazarService
import Foundation

/// Where a local Bazar's processes listen, as `bazar up` and `bazar scrape-config` take it.
struct TopologyOptions: ParsableArguments {
    @Option(help: "Address every service listens on. [env: BAZAR_HOST]")
    var host = ProcessInfo.processInfo.environment["BAZAR_HOST"] ?? "127.0.0.1"

    @Option(help: "Front end port; the catalog replicas listen on the ports after it, the order replicas after the last catalog port. [env: BAZAR_FRONT_PORT, default: 8080]")
    var frontPort: Int?

    @Option(help: "Catalog replicas, 1 to 7: one runs without replication, two follow the pair rules, three or more the majority rules that survive network partitions (docs/consistency.md). [env: BAZAR_CATALOG_REPLICAS, default: 2]")
    var catalogReplicas: Int?

    @Option(help: "Order replicas, 1 to 7. [env: BAZAR_ORDER_REPLICAS, default: 2]")
    var orderReplicas: Int?

    /// The topology these options and the environment describe; a `ValidationError` names a bad setting.
    func topology() throws -> LocalTopology {
        do {
            return try LocalTopology(
                host: host,
                frontPort: Setting.int(frontPort, env: "BAZAR_FRONT_PORT", default: LocalTopology.standard.frontPort),
                catalogReplicas: Setting.int(catalogReplicas, env: "BAZAR_CATALOG_REPLICAS", default: LocalTopology.standard.catalogReplicas),
                orderReplicas: Setting.int(orderReplicas, env: "BAZAR_ORDER_REPLICAS", default: LocalTopology.standard.orderReplicas)
            ).validated()
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}
