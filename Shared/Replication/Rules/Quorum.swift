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
/// longer than the lease). A follower's own lease is `ReadLease`.
public enum LeaderLease {
    public static func holds(inSyncFollowersConfirm: Bool, confirmations: Int, quorum: Quorum) -> Bool {
        inSyncFollowersConfirm && quorum.isMet(by: confirmations)
    }
}
