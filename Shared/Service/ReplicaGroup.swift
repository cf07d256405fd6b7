import BazarModels

/// Who leads a replicated service, in which term. The leader is the lowest-numbered replica;
/// a replica accepts pushes only from a term at least as new as its own.
public actor ReplicaGroup {
    public nonisolated let me: ReplicaName
    public nonisolated let peers: [ReplicaEndpoint]
    public private(set) var term: Int64
    public private(set) var leader: ReplicaName

    public init(me: ReplicaName, peers: [ReplicaEndpoint], allNames: Set<ReplicaName>) {
        self.me = me
        self.peers = peers
        self.term = 1
        self.leader = allNames.min() ?? me
    }

    public var isLeader: Bool { leader == me }

    /// The base URL of the leader when it is another replica.
    public var leaderURL: String? {
        peers.first { $0.name == leader }?.url
    }

    /// A push from `leader` in `term`: follow it unless our term is newer. Returns whether accepted.
    public func observe(leader: ReplicaName, term: Int64) -> Bool {
        guard term >= self.term else { return false }
        self.term = term
        self.leader = leader
        return true
    }
}
