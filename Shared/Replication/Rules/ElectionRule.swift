import BazarModels

/// What a follower that lost its leader does with the peers' answers to its status probe, as one
/// decision with no I/O: `LeaderElection` probes, asks this rule, and carries the decision out
/// (the deterministic simulation in the unit tests runs the same rule against `VoteRule` and
/// `StepDownRule`).
///
/// It follows a replica that leads in a term at least as new as its own. When none does:
/// - the pair rules (one or two replicas): the most up-to-date live replica takes over, the
///   lowest-numbered on a tie, in a term of its own newer than any it heard of (`pairTerm`), provided its log reaches the
///   newest term it knows; after a start, one that hears from nobody first waits an election
///   timeout per place (its peer may lead and merely be slow to answer);
/// - the majority rules (three or more): it stands for election in a new term, only when a
///   majority answered, none of them still hears from a leader (a replica cut off from the
///   others must not raise the term, which would depose the leader when it comes back), and
///   enough of them have a log no newer than its own to elect it.
public struct ElectionRule: Sendable {
    public var me: ReplicaName
    /// This replica's place among the group's, from 0 for the lowest-numbered.
    public var rank: Int
    public var quorum: Quorum
    /// This replica's term, and the term and length of its log.
    public var term: Int64
    public var lastTerm: Int64
    public var lastSeq: Int64
    /// How long this replica has been running, and the election timeout it runs with.
    public var sinceStart: Duration
    public var electionTimeout: Duration

    public init(me: ReplicaName, rank: Int, quorum: Quorum, term: Int64, lastTerm: Int64, lastSeq: Int64,
                sinceStart: Duration, electionTimeout: Duration) {
        self.me = me
        self.rank = rank
        self.quorum = quorum
        self.term = term
        self.lastTerm = lastTerm
        self.lastSeq = lastSeq
        self.sinceStart = sinceStart
        self.electionTimeout = electionTimeout
    }

    public enum Decision: Sendable, Equatable {
        /// Follow the replica that leads `term`.
        case follow(ReplicaName, term: Int64)
        /// The pair rules: lead in `term` at once.
        case takeOver(term: Int64)
        /// The majority rules: vote for itself in `term` and ask the others.
        case stand(term: Int64)
        /// Wait another election timeout (another replica should act, or a leader be heard).
        case wait
    }

    /// `statuses`: the peers that answered the probe.
    public func decide(_ statuses: [ReplicationStatus]) -> Decision {
        if let leading = statuses.first(where: { $0.role == .leader && $0.term >= term && $0.leader == $0.replica }),
           let name = ReplicaName(leading.replica) {
            return .follow(name, term: leading.term)
        }
        let newestTerm = max(term, statuses.map(\.term).max() ?? 0)
        let newTerm = newestTerm + 1
        if quorum.usesMajority {
            let leaderHeard = statuses.contains { $0.role == .follower && $0.inSync && !$0.leader.isEmpty }
            guard sinceStart >= electionTimeout * rank, statuses.count + 1 >= quorum.majority, !leaderHeard else { return .wait }
            // Only a candidacy that can win: too few of the answering replicas have a log no newer
            // than this one's to vote for it, and standing anyway would only raise the term and
            // depose the leader that the others are about to elect (the deterministic simulation
            // found a replica far behind doing that for seconds).
            let couldVote = statuses.filter { ($0.lastTerm, $0.lastSeq) <= (lastTerm, lastSeq) }.count
            guard couldVote + 1 >= quorum.majority else { return .wait }
            return .stand(term: newTerm)
        }
        // A replica whose log is older than a term it knows of does not take over: that term's
        // leader may have acknowledged writes it lacks.
        guard lastTerm >= term else { return .wait }
        let candidates = [(me, lastTerm, lastSeq)] + statuses.compactMap { status in
            ReplicaName(status.replica).map { ($0, status.lastTerm, status.lastSeq) }
        }
        let best = candidates.max { a, b in (a.1, a.2) != (b.1, b.2) ? (a.1, a.2) < (b.1, b.2) : a.0 > b.0 }!.0
        // (Taking over at once after a start, a restarted replica led in the same term as the
        // leader it could not hear, and the pair's tie-break then dropped that leader's writes.)
        guard best == me, !statuses.isEmpty || sinceStart >= electionTimeout * (rank + 1) else { return .wait }
        return .takeOver(term: Self.pairTerm(after: newestTerm, rank: rank, replicas: quorum.replicas))
    }

    /// The pair rules' next term for the replica of `rank`: the first after `term` that is its
    /// own (the lower-numbered of two takes the even terms). Two replicas that both take over, from
    /// answers that crossed, then never lead one term, so that a term's entries have one writer
    /// and logs that agree on an entry's term agree on the entry. (When both could lead one term,
    /// the simulation found the one that stepped down keeping its own entries of that term where
    /// the other's stood, and serving reads from them.)
    public static func pairTerm(after term: Int64, rank: Int, replicas: Int) -> Int64 {
        let next = term + 1
        guard replicas > 1 else { return next }
        let count = Int64(replicas)
        return next + (Int64(rank) - next % count + count) % count
    }

    /// Whether a candidacy won: its own vote and the granted ones of its term make a majority.
    public func isElected(term: Int64, answers: [VoteAnswer]) -> Bool {
        1 + answers.filter { $0.granted && $0.term == term }.count >= quorum.majority
    }
}
