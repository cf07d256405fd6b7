import BazarModels

/// Where a local Bazar's processes listen: the front end on `frontPort`, the catalog replicas on
/// the ports right after it, the order replicas right after the last catalog port (8080, 8081–8082,
/// 8083–8084 for the standard two and two). The one source of names and ports for the services'
/// defaults, `bazar up`, the system tests and the benchmarks.
public struct LocalTopology: Sendable, Equatable {
    /// Replicas a service may run: one (no replication, for development) to seven.
    public static let replicaCounts = 1...7
    /// The standard system of the contract: two catalog and two order replicas.
    public static let standard = LocalTopology()

    public var host: String
    public var frontPort: Int
    public var catalogReplicas: Int
    public var orderReplicas: Int

    public init(host: String = "127.0.0.1", frontPort: Int = 8080, catalogReplicas: Int = 2, orderReplicas: Int = 2) {
        self.host = host
        self.frontPort = frontPort
        self.catalogReplicas = catalogReplicas
        self.orderReplicas = orderReplicas
    }

    /// Throws a `ConfigurationError` naming the setting when a count or port is out of range.
    public func validated() throws -> LocalTopology {
        for (count, setting) in [(catalogReplicas, "BAZAR_CATALOG_REPLICAS"), (orderReplicas, "BAZAR_ORDER_REPLICAS")]
        where !Self.replicaCounts.contains(count) {
            throw ConfigurationError("\(setting) must be from \(Self.replicaCounts.lowerBound) to \(Self.replicaCounts.upperBound), not \(count)")
        }
        guard frontPort >= 1, frontPort + catalogReplicas + orderReplicas <= 65535 else {
            throw ConfigurationError("BAZAR_FRONT_PORT \(frontPort) leaves no room for \(catalogReplicas + orderReplicas) replica ports after it")
        }
        return self
    }

    public var catalogPorts: [Int] { (0..<catalogReplicas).map { frontPort + 1 + $0 } }
    public var orderPorts: [Int] { (0..<orderReplicas).map { frontPort + 1 + catalogReplicas + $0 } }
    public var frontEndURL: String { "http://\(host):\(frontPort)" }

    /// The ports of `service`'s replicas (`catalog` or `order`).
    public func ports(of service: String) -> [Int] { service == "catalog" ? catalogPorts : orderPorts }

    /// `service`'s replicas as `BAZAR_PEERS`, `BAZAR_CATALOGS` and `BAZAR_ORDERS` take them.
    public func replicaList(_ service: String) -> String {
        ports(of: service).enumerated().map { "\(service)-\($0.offset + 1)=http://\(host):\($0.element)" }.joined(separator: ",")
    }

    /// The port `replica` listens on in this topology (past its last replica, the ports go on
    /// from there).
    public func port(of replica: ReplicaName) -> Int {
        let ports = ports(of: replica.service)
        return ports.indices.contains(replica.number - 1) ? ports[replica.number - 1] : (ports.last ?? frontPort) + replica.number - ports.count
    }
}
