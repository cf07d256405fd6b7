import BazarModels

/// The vote rule (three or more replicas), as one decision with no I/O: the replicator stores
/// what it decides (the adopted term, the vote) before it answers.
///
/// A replica votes at most once per term, only for a candidate of its own service whose log is at
/// least as up to date as its own (last entry's term, then length), and never while it still hears
/// from a live leader: a replica that was cut off and comes back with a newer term must not depose
/// a leader the others follow.
public struct VoteRule: Sendable {
    public var me: ReplicaName
    /// This replica's term, and whom it voted for in it.
    public var term: Int64
    public var votedFor: ReplicaName?
    /// The end of this replica's log.
    public var lastTerm: Int64
    public var lastSeq: Int64
    /// Whether it leads with a quorum's confirmation within the lease, or follows a leader heard
    /// from within the election timeout.
    public var hearsLiveLeader: Bool

    public init(me: ReplicaName, term: Int64, votedFor: ReplicaName?, lastTerm: Int64, lastSeq: Int64, hearsLiveLeader: Bool) {
        self.me = me
        self.term = term
        self.votedFor = votedFor
        self.lastTerm = lastTerm
        self.lastSeq = lastSeq
        self.hearsLiveLeader = hearsLiveLeader
    }

    public struct Decision: Sendable, Equatable {
        /// The request's term becomes this replica's (it stops leading, if it led).
        public var adoptsTerm: Bool
        /// The vote goes to the candidate.
        public var grants: Bool

        public init(adoptsTerm: Bool, grants: Bool) {
            self.adoptsTerm = adoptsTerm
            self.grants = grants
        }
    }

    public func decide(_ request: VoteRequest) -> Decision {
        let refused = Decision(adoptsTerm: false, grants: false)
        guard let candidate = ReplicaName(request.candidate), candidate.service == me.service, candidate != me,
              request.term >= term else { return refused }
        let newer = request.term > term
        if newer, hearsLiveLeader { return refused }
        let upToDate = (request.lastTerm, request.lastSeq) >= (lastTerm, lastSeq)
        // In a newer term this replica has not voted yet.
        let free = newer || votedFor == nil || votedFor == candidate
        return Decision(adoptsTerm: newer, grants: upToDate && free)
    }
}
