import BazarModels
import BazarService

/// Who leads a replicated service, in which term, as this replica knows it.
///
/// Terms only grow. A replica accepts pushes only from a term at least as new as its own; at the
/// same term, two replicas that both think they lead settle on the lower-numbered one. Only the
/// `Replicator` changes the role and the term (internal methods); everyone else reads them.
public actor ReplicaGroup {
    public nonisolated let me: ReplicaName
    public nonisolated let peers: [ReplicaEndpoint]
    public private(set) var term: Int64 = 0
    public private(set) var leader: ReplicaName?
    /// When this replica last heard from its leader (or decided to wait for one): its election
    /// timer runs from here.
    public private(set) var lastContact: ContinuousClock.Instant?
    /// When this replica last heard from the leader it follows, and only that: a replica that
    /// waits (`deferElection`) does not keep its silent leader alive, or it would refuse every
    /// candidate's vote for as long as it waits, and a group whose up-to-date replicas need its
    /// vote would elect nobody (the deterministic simulation found such a group stuck).
    public private(set) var leaderHeardAt: ContinuousClock.Instant?
    /// When this replica last took over as leader (kept after it steps down).
    public private(set) var tookOverAt: ContinuousClock.Instant?

    public init(me: ReplicaName, peers: [ReplicaEndpoint]) {
        self.me = me
        self.peers = peers
    }

    public var isLeader: Bool { leader == me }

    /// This replica's place among all of the group's, from 0 for the lowest-numbered: names may
    /// start at 1 (`bazar up`, compose) or at 0 (a Kubernetes StatefulSet).
    public nonisolated var rank: Int { peers.filter { $0.name < me }.count }

    /// Who decides commits and leases: three or more replicas follow the majority rules (stored
    /// votes, majority acknowledgement, docs/consistency.md); one or two, the pair rules.
    public nonisolated var quorum: Quorum { Quorum(replicas: peers.count + 1) }
    public nonisolated var usesMajority: Bool { quorum.usesMajority }
    /// How many replicas, this one included, make a majority of the group.
    public nonisolated var majority: Int { quorum.majority }
    /// The vote this replica gave last (stored before it was given).
    public private(set) var vote: (term: Int64, candidate: ReplicaName)?

    /// Whom this replica voted for in the current term, if anyone.
    public var votedFor: ReplicaName? { vote.flatMap { $0.term == term ? $0.candidate : nil } }

    /// The base URL of the leader when it is another replica.
    public var leaderURL: String? {
        peers.first { $0.name == leader }?.url
    }

    /// Restores the term and the vote stored in the database at start.
    func restore(term: Int64, vote: (term: Int64, candidate: ReplicaName)? = nil) {
        self.term = max(self.term, term)
        self.vote = vote
    }

    /// A vote given (and stored) in `term`, which becomes this replica's term; a vote for itself
    /// makes it a candidate that follows nobody.
    func recordVote(term: Int64, for candidate: ReplicaName) {
        self.term = max(self.term, term)
        vote = (term, candidate)
        if candidate == me { leader = nil }
        lastContact = .now
    }

    /// A newer term heard of without a leader in it (a candidate's vote request): this replica
    /// leads and follows nobody in it yet.
    func adopt(term: Int64) {
        guard term > self.term else { return }
        self.term = term
        leader = nil
    }

    public enum Verdict: Sendable, Equatable {
        case accepted(termChanged: Bool)
        case refused
    }

    /// A push from `leader` in `term`: follow it unless our term is newer, or unless we lead the
    /// same term and have the lower number.
    func observe(leader: ReplicaName, term: Int64, at instant: ContinuousClock.Instant = .now) -> Verdict {
        guard StepDownRule.follows(leader: leader, term: term, current: self.term, currentLeader: self.leader, me: me) else { return .refused }
        let changed = term > self.term
        self.term = term
        self.leader = leader
        lastContact = instant
        leaderHeardAt = instant
        return .accepted(termChanged: changed)
    }

    /// Takes over in `term` (newer than any this replica has seen).
    func becomeLeader(term: Int64) {
        self.term = max(self.term, term)
        leader = me
        tookOverAt = .now
    }

    /// A newer term exists (or a lower-numbered leader of ours): stop leading.
    func stepDown(term: Int64, leader: ReplicaName?) {
        guard term >= self.term else { return }
        self.term = term
        self.leader = leader == me ? nil : leader
        lastContact = .now
    }

    /// Waits one more election timeout (and `extra`) before trying to lead (another replica should).
    public func deferElection(extra: Duration = .zero) {
        lastContact = .now + extra
    }
}
