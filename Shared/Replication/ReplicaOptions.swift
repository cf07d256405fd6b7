import ArgumentParser
import BazarModels
import BazarService

/// The settings of a replicated service (catalog, order).
public struct ReplicaOptions: ParsableArguments, Sendable {
    @Option(help: "This replica's name, <service>-<n>. [env: BAZAR_NAME, default: <service>-1]")
    public var name: String?

    @Option(help: "Every replica of this service as name=url,… (this one included). [env: BAZAR_PEERS, default: two local replicas]")
    public var peers: String?

    @Option(help: "Database: an SQLite file path or postgres://user:pass@host:port/db. [env: BAZAR_DATABASE_URL, default: .bazar/<name>.sqlite]")
    public var database: String?

    @Option(help: "Read lease, in milliseconds: a follower not heard from this long stops serving and is dropped from the in-sync set. [env: BAZAR_LEASE_MS, default: 1000]")
    public var leaseMs: Int?

    @Option(help: "Interval of the leader's heartbeats, in milliseconds. [env: BAZAR_HEARTBEAT_MS, default: 200]")
    public var heartbeatMs: Int?

    @Option(help: "Log entries kept at compaction; a follower further behind gets a snapshot. [env: BAZAR_LOG_KEEP, default: 10000]")
    public var logKeep: Int?

    public init() {}

    public func resolve(service: String, basePort: Int) throws -> ReplicaSettings {
        let nameText = Setting.string(name, env: "BAZAR_NAME", default: "\(service)-1")
        guard let me = ReplicaName(nameText), me.service == service else {
            throw ConfigurationError("BAZAR_NAME/--name '\(nameText)' must be \(service)-<n>, such as \(service)-1")
        }
        let defaultPeers = "\(service)-1=http://127.0.0.1:\(basePort),\(service)-2=http://127.0.0.1:\(basePort + 1)"
        let peers = try Setting.replicas(Setting.string(peers, env: "BAZAR_PEERS", default: defaultPeers), setting: "BAZAR_PEERS")
        guard peers.allSatisfy({ $0.name.service == service }) else {
            throw ConfigurationError("BAZAR_PEERS lists replicas of another service than \(service)")
        }
        let replication = Replicator.Settings(
            lease: .milliseconds(try Setting.int(leaseMs, env: "BAZAR_LEASE_MS", default: 1000)),
            heartbeat: .milliseconds(try Setting.int(heartbeatMs, env: "BAZAR_HEARTBEAT_MS", default: 200)),
            logKeep: Int64(try Setting.int(logKeep, env: "BAZAR_LOG_KEEP", default: 10_000)))
        guard replication.heartbeat * 2 <= replication.lease, replication.logKeep > 0 else {
            throw ConfigurationError("BAZAR_LEASE_MS must be at least twice BAZAR_HEARTBEAT_MS, and BAZAR_LOG_KEEP above 0")
        }
        return ReplicaSettings(
            me: me, peers: peers,
            databaseURL: Setting.string(database, env: "BAZAR_DATABASE_URL", default: ".bazar/\(me).sqlite"),
            replication: replication)
    }
}

public struct ReplicaSettings: Sendable {
    public var me: ReplicaName
    /// The other replicas of the service.
    public var peers: [ReplicaEndpoint]
    public var databaseURL: String
    public var replication: Replicator.Settings

    public init(me: ReplicaName, peers: [ReplicaEndpoint], databaseURL: String, replication: Replicator.Settings = .init()) {
        self.me = me
        self.peers = peers.filter { $0.name != me }
        self.databaseURL = databaseURL
        self.replication = replication
    }
}
