import ArgumentParser
import BazarModels
import BazarService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The settings of a replicated service (catalog, order).
public struct ReplicaOptions: ParsableArguments, Sendable {
    @Option(help: "This replica's name, <service>-<n>. [env: BAZAR_NAME, default: <service>-1]")
    public var name: String?

    @Option(help: "Every replica of this service as name=url,… (this one included). [env: BAZAR_PEERS, default: two local replicas]")
    public var peers: String?

    @Option(help: "Database: an SQLite file path or postgres://user:pass@host:port/db. [env: BAZAR_DATABASE_URL, default: .bazar/<name>.sqlite]")
    public var database: String?

    @Option(help: "A file holding the PostgreSQL password, put into the database URL in place of any there (the _FILE convention of Docker secrets). [env: BAZAR_DATABASE_PASSWORD_FILE]")
    public var databasePasswordFile: String?

    @Option(help: "Read lease, in milliseconds: a follower not heard from this long stops serving and is dropped from the in-sync set. [env: BAZAR_LEASE_MS, default: 1000]")
    public var leaseMs: Int?

    @Option(help: "Interval of the leader's heartbeats, in milliseconds. [env: BAZAR_HEARTBEAT_MS, default: 200]")
    public var heartbeatMs: Int?

    @Option(help: "Log entries kept at compaction; a follower further behind gets a snapshot. [env: BAZAR_LOG_KEEP, default: 10000]")
    public var logKeep: Int?

    public init() {}

    public func resolve(service: String) throws -> ReplicaSettings {
        let nameText = Setting.string(name, env: "BAZAR_NAME", default: "\(service)-1")
        guard let me = ReplicaName(nameText), me.service == service else {
            throw ConfigurationError("BAZAR_NAME/--name '\(nameText)' must be \(service)-<n>, such as \(service)-1")
        }
        let peers = try Setting.replicas(
            Setting.string(peers, env: "BAZAR_PEERS", default: LocalTopology.standard.replicaList(service)), setting: "BAZAR_PEERS")
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
        // Unless told otherwise, a replica listens where its own entry in the peer list says.
        let listed = peers.first { $0.name == me }.flatMap { Self.port(of: $0.url) }
        return ReplicaSettings(
            me: me, peers: peers, defaultPort: listed ?? LocalTopology.standard.port(of: me),
            databaseURL: try Self.withPassword(
                Setting.string(database, env: "BAZAR_DATABASE_URL", default: ".bazar/\(me).sqlite"),
                file: Setting.optionalString(databasePasswordFile, env: "BAZAR_DATABASE_PASSWORD_FILE")),
            replication: replication)
    }
}

extension ReplicaOptions {
    /// The port of `http://host:port[/path]`, if it names one.
    static func port(of url: String) -> Int? {
        let afterScheme = url.split(separator: "://", maxSplits: 1).last ?? ""
        let authority = afterScheme.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        return port
    }
}

public struct ReplicaSettings: Sendable {
    public var me: ReplicaName
    /// The other replicas of the service.
    public var peers: [ReplicaEndpoint]
    /// The port to listen on when none is given: this replica's own entry in the peer list.
    public var defaultPort: Int
    public var databaseURL: String
    public var replication: Replicator.Settings

    public init(me: ReplicaName, peers: [ReplicaEndpoint], defaultPort: Int? = nil, databaseURL: String, replication: Replicator.Settings = .init()) {
        self.me = me
        self.peers = peers.filter { $0.name != me }
        self.defaultPort = defaultPort ?? LocalTopology.standard.port(of: me)
        self.databaseURL = databaseURL
        self.replication = replication
    }
}

extension ReplicaOptions {
    /// `url` with the password that `file` holds, when a file is given (PostgreSQL URLs only).
    static func withPassword(_ url: String, file: String?) throws -> String {
        guard let file else { return url }
        let password = try Setting.secretFile(file, variable: "BAZAR_DATABASE_PASSWORD_FILE")
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://"), var components = URLComponents(string: url) else {
            throw ConfigurationError("BAZAR_DATABASE_PASSWORD_FILE needs a postgres:// BAZAR_DATABASE_URL")
        }
        components.password = password
        guard let withPassword = components.string else { throw ConfigurationError("the password in BAZAR_DATABASE_PASSWORD_FILE does not fit in a URL") }
        return withPassword
    }
}
