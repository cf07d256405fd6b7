/// How many replicas decide, for the commit rule and the leader's lease: with three or more, a
/// majority of the group, the leader included (the majority rules); with one or two, the pair
/// rules, where the in-sync set alone decides (a majority of two would be both, and a pair must
/// go on with one replica down).
public struct Quorum: Sendable, Equatable {
    /// The replicas of the service, this one included.
    public let replicas: Int

    public init(replicas: Int) { self.replicas = replicas }

    public var usesMajority: Bool { replicas >= 3 }
    public var majority: Int { replicas / 2 + 1 }

    /// Whether `count` replicas, the leader included, are enough: a majority, or with the pair
    /// rules any number (their in-sync set has decided already).
    public func isMet(by count: Int) -> Bool { !usesMajority || count >= majority }
}

/// The commit rule: a leader acknowledges a write once every follower in its in-sync set holds it
/// (so that every follower serving reads holds every acknowledged write) and a quorum, the leader
/// included, holds it. (A leader acknowledges only entries of its own term, and older ones with
/// them: a term's first entry is the new leader's own.)
public enum CommitRule {
    public static func mayAcknowledge(inSyncFollowersHoldIt: Bool, holders: Int, quorum: Quorum) -> Bool {
        inSyncFollowersHoldIt && quorum.isMet(by: holders)
    }
}

/// The leader's lease: a leader serves reads only while every follower in its in-sync set, and a
/// quorum (the leader included), confirmed its leadership within the lease. A leader cut off from
/// the majority stops serving before the others can elect a new one (their election timeout is
/// longer than the lease, counted from the last push they accepted). A follower's own lease is
/// `ReadLease`, and it never outlasts the leader's: each push grants the follower what is left of
/// the leader's lease when it is sent, so a follower that the leader can still reach but that no
/// longer confirms (its answers are lost), or the followers of a leader cut off from the majority,
/// stop serving when the leader does, before writes go on without them.
public enum LeaderLease {
    /// When the lease ends, from each follower's confirmation (the send time of the last push it
    /// accepted in this term, plus the lease; nil before one) and whether it is in sync.
    /// (Inlinable: the simulation asks it at every step, specialized for its clock.)
    @inlinable
    public static func end<Instant: Comparable & Sendable>(followers: [(confirmedUntil: Instant?, inSync: Bool)], quorum: Quorum) -> End<Instant> {
        var end: Instant?
        for follower in followers where follower.inSync {
            guard let until = follower.confirmedUntil else { return .none }
            end = end.map { min($0, until) } ?? until
        }
        if quorum.usesMajority {
            // The leader counts itself: the majority's last confirmation, newest first.
            let needed = quorum.majority - 1
            let confirmed = followers.compactMap { $0.confirmedUntil }.sorted(by: >)
            guard confirmed.count >= needed else { return .none }
            if needed > 0 { end = end.map { min($0, confirmed[needed - 1]) } ?? confirmed[needed - 1] }
        }
        return end.map(End.until) ?? .unbounded
    }

    public enum End<Instant: Comparable & Sendable>: Equatable, Sendable {
        /// No lease: a follower in sync, or too few, have not confirmed.
        case none
        case until(Instant)
        /// Nothing bounds it: a leader of one, or of a pair whose follower is out of sync.
        case unbounded

        @inlinable
        public func holds(at now: Instant) -> Bool {
            switch self {
            case .none: false
            case .until(let end): now < end
            case .unbounded: true
            }
        }
    }
}
