import BazarModels
import BazarService

/// Who leads a replicated service, in which term, as this replica knows it.
///
/// Terms only grow. A replica accepts pushes only from a term at least as new as its own; at the
/// same term, two replicas that both think they lead settle on the lower-numbered one.
public actor ReplicaGroup {
    public nonisolated let me: ReplicaName
    public nonisolated let peers: [ReplicaEndpoint]
    public private(set) var term: Int64 = 0
    public private(set) var leader: ReplicaName?
    /// When this replica last heard from its leader (or decided to wait for one).
    public private(set) var lastContact: ContinuousClock.Instant?

    public init(me: ReplicaName, peers: [ReplicaEndpoint]) {
        self.me = me
        self.peers = peers
    }

    public var isLeader: Bool { leader == me }

    /// The base URL of the leader when it is another replica.
    public var leaderURL: String? {
        peers.first { $0.name == leader }?.url
    }

    /// Restores the term stored in the database at start.
    public func restore(term: Int64) {
        self.term = max(self.term, term)
    }

    public enum Verdict: Sendable, Equatable {
        case accepted(termChanged: Bool)
        case refused
    }

    /// A push from `leader` in `term`: follow it unless our term is newer, or unless we lead the
    /// same term and have the lower number.
    public func observe(leader: ReplicaName, term: Int64, at instant: ContinuousClock.Instant = .now) -> Verdict {
        guard term >= self.term else { return .refused }
        if term == self.term, self.leader == me, me < leader { return .refused }
        let changed = term > self.term
        self.term = term
        self.leader = leader
        lastContact = instant
        return .accepted(termChanged: changed)
    }

    /// Takes over in `term` (newer than any this replica has seen).
    public func becomeLeader(term: Int64) {
        self.term = max(self.term, term)
        leader = me
    }

    /// A newer term exists (or a lower-numbered leader of ours): stop leading.
    public func stepDown(term: Int64, leader: ReplicaName?) {
        guard term >= self.term else { return }
        self.term = term
        self.leader = leader == me ? nil : leader
        lastContact = .now
    }

    /// Waits one more election timeout before trying to lead (another replica should).
    public func deferElection() {
        lastContact = .now
    }
}
