import BazarModels
import BazarService
import Foundation

/// Where the processes of a local Bazar listen, where they keep their data, and how they are
/// configured. The defaults are the standard topology of the contract (8080 to 8084).
public struct ClusterLayout: Sendable {
    public var host: String
    public var frontPort: Int
    /// Front ends beyond the first (`front-2`, `front-3`, …), each on its port: they subscribe to
    /// the catalog leader like the first, nobody is told of them.
    public var moreFrontPorts: [Int] = []
    public var catalogPorts: [Int]
    public var orderPorts: [Int]
    /// Data directory: SQLite files and logs.
    public var dataDirectory: URL
    /// A PostgreSQL server URL (`postgres://user:password@host:port`); each replica then gets its
    /// own database on it (`bazar_catalog_1`, …) instead of an SQLite file.
    public var postgresURL: String?
    /// Prefix of the replicas' PostgreSQL database names (`bazar_catalog_1` by default).
    public var databasePrefix = "bazar"
    /// The directory holding the `bazar-front`, `bazar-catalog` and `bazar-order` executables.
    public var binDirectory: URL
    /// Extra `BAZAR_…` variables for every process (tokens, lease, log level).
    public var environment: [String: String] = [:]
    /// Replica name to the URL the front end calls it at, when not its own (a proxy in front of it, in tests and benchmarks).
    public var frontEndRoutes: [String: String] = [:]
    /// Member name to the address it listens and is reached at, when not `host` (each member in
    /// a network namespace of its own has its own address).
    public var memberHosts: [String: String] = [:]
    /// Member name to the command its executable runs under (`ip netns exec <namespace>`).
    public var launchPrefix: [String: [String]] = [:]

    public init(topology: LocalTopology = .standard, dataDirectory: URL, binDirectory: URL) {
        host = topology.host
        frontPort = topology.frontPort
        catalogPorts = topology.catalogPorts
        orderPorts = topology.orderPorts
        self.dataDirectory = dataDirectory
        self.binDirectory = binDirectory
    }

    public struct Member: Sendable, Hashable {
        public var name: String
        public var executable: String
        public var port: Int
    }

    public var members: [Member] {
        [Member(name: "front", executable: "bazar-front", port: frontPort)]
            + moreFrontPorts.enumerated().map { Member(name: "front-\($0.offset + 2)", executable: "bazar-front", port: $0.element) }
            + catalogPorts.enumerated().map { Member(name: "catalog-\($0.offset + 1)", executable: "bazar-catalog", port: $0.element) }
            + orderPorts.enumerated().map { Member(name: "order-\($0.offset + 1)", executable: "bazar-order", port: $0.element) }
    }

    /// The front ends, the first one first.
    public var frontEnds: [Member] { members.filter { $0.executable == "bazar-front" } }
    /// The catalog and order replicas.
    public var replicaMembers: [Member] { members.filter { $0.executable != "bazar-front" } }

    public func url(of name: String) -> String {
        "http://\(host(of: name)):\(members.first { $0.name == name }?.port ?? 0)"
    }

    /// The address `name` listens and is reached at.
    public func host(of name: String) -> String {
        memberHosts[name] ?? host
    }

    func replicaList(_ service: String, _ ports: [Int], routes: [String: String] = [:]) -> String {
        ports.enumerated().map { offset, port in
            let name = "\(service)-\(offset + 1)"
            return "\(name)=" + (routes[name] ?? "http://\(host(of: name)):\(port)")
        }.joined(separator: ",")
    }

    /// The database URL of a replica.
    public func databaseURL(of name: String) -> String {
        if let postgresURL, var components = URLComponents(string: postgresURL) {
            components.path = "/\(databasePrefix)_" + name.replacingOccurrences(of: "-", with: "_")
            return components.string ?? postgresURL
        }
        return dataDirectory.appendingPathComponent("\(name).sqlite").path
    }

    public func logFile(of name: String) -> URL {
        dataDirectory.appendingPathComponent("logs/\(name).log")
    }

    /// The command-line flags that start `member` in this layout.
    func arguments(of member: Member) -> [String] {
        var arguments = ["--host", host(of: member.name), "--port", "\(member.port)"]
        switch member.executable {
        case "bazar-front":
            arguments += ["--catalogs", replicaList("catalog", catalogPorts, routes: frontEndRoutes),
                          "--orders", replicaList("order", orderPorts, routes: frontEndRoutes)]
        case "bazar-catalog":
            arguments += ["--name", member.name, "--peers", replicaList("catalog", catalogPorts),
                          "--database", databaseURL(of: member.name)]
        default:
            arguments += ["--name", member.name, "--peers", replicaList("order", orderPorts),
                          "--database", databaseURL(of: member.name), "--catalogs", replicaList("catalog", catalogPorts)]
        }
        return arguments
    }
}
