#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one front end sees of the whole system: its own traffic and cache, every back-end
/// replica as its health checks last found it, and the leader changes it saw. The JSON of
/// `GET /status` (with `Accept: application/json`), drawn by the status page and `bazar status`.
public struct SystemStatus: Codable, Sendable, Equatable {
    public var takenAt: Date
    public var front: FrontTraffic
    public var cache: CacheStats
    public var replicas: [ReplicaView]
    /// Newest last, at most `LeaderChange.kept`.
    public var leaderChanges: [LeaderChange]

    public init(takenAt: Date, front: FrontTraffic, cache: CacheStats, replicas: [ReplicaView], leaderChanges: [LeaderChange]) {
        self.takenAt = takenAt
        self.front = front
        self.cache = cache
        self.replicas = replicas
        self.leaderChanges = leaderChanges
    }

    enum CodingKeys: String, CodingKey {
        case front, cache, replicas
        case takenAt = "taken_at"
        case leaderChanges = "leader_changes"
    }

    /// The leader of `service`, as the replicas say: the leader in the highest term.
    public func leader(of service: String) -> String? {
        replicas.filter { $0.service == service && $0.role == .leader }.max { ($0.term ?? 0) < ($1.term ?? 0) }?.name
    }
}

/// The front end's client traffic (public and admin routes) over the last `windowSeconds`.
public struct FrontTraffic: Codable, Sendable, Equatable {
    public var windowSeconds: Double
    public var requestsPerSecond: Double
    /// Answers with a 5xx status, per second.
    public var errorsPerSecond: Double
    public var p50Ms: Double?
    public var p99Ms: Double?
    /// Since the front end started.
    public var requests: Int
    public var errors: Int

    public init(windowSeconds: Double, requestsPerSecond: Double, errorsPerSecond: Double, p50Ms: Double?, p99Ms: Double?,
                requests: Int, errors: Int) {
        self.windowSeconds = windowSeconds
        self.requestsPerSecond = requestsPerSecond
        self.errorsPerSecond = errorsPerSecond
        self.p50Ms = p50Ms
        self.p99Ms = p99Ms
        self.requests = requests
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case requests, errors
        case windowSeconds = "window_seconds"
        case requestsPerSecond = "requests_per_second"
        case errorsPerSecond = "errors_per_second"
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
    }
}

/// One back-end replica as the front end's health checks last found it.
public struct ReplicaView: Codable, Sendable, Equatable {
    public enum Role: String, Codable, Sendable { case leader, follower, unreachable }

    public var name: String
    public var service: String
    public var url: String
    public var role: Role
    public var term: Int64?
    public var lastSeq: Int64?
    /// Entries behind its service's leader (nil when either is unknown).
    public var lag: Int64?
    /// May serve reads: in the front end's rotation.
    public var ready: Bool
    /// Answered the last health check at all.
    public var healthy: Bool
    /// When it last answered.
    public var lastSeen: Date?

    public init(name: String, service: String, url: String, role: Role, term: Int64?, lastSeq: Int64?, lag: Int64?,
                ready: Bool, healthy: Bool, lastSeen: Date?) {
        self.name = name
        self.service = service
        self.url = url
        self.role = role
        self.term = term
        self.lastSeq = lastSeq
        self.lag = lag
        self.ready = ready
        self.healthy = healthy
        self.lastSeen = lastSeen
    }

    enum CodingKeys: String, CodingKey {
        case name, service, url, role, term, lag, ready, healthy
        case lastSeq = "last_seq"
        case lastSeen = "last_seen"
    }
}

/// A service's leader as it changed: seen by the front end's health checks.
public struct LeaderChange: Codable, Sendable, Equatable {
    public static let kept = 20
    public var at: Date
    public var service: String
    public var leader: String
    public var term: Int64

    public init(at: Date, service: String, leader: String, term: Int64) {
        self.at = at
        self.service = service
        self.leader = leader
        self.term = term
    }
}
