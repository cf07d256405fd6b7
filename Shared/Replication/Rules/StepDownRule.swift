import BazarModels

/// When a replica stops leading or following whom it did: terms only grow, and within one term
/// two replicas that both think they lead (the pair rules, where nobody votes) settle on the
/// lower-numbered one.
public enum StepDownRule {
    /// Whether a push from `leader` in `term` is followed by a replica in `current` term, led by
    /// `currentLeader` as it knows it.
    public static func follows(leader: ReplicaName, term: Int64, current: Int64, currentLeader: ReplicaName?, me: ReplicaName) -> Bool {
        guard term >= current else { return false }
        return !(term == current && currentLeader == me && me < leader)
    }

    /// Whether a leader in `term` whose push a follower answered with `answer` is deposed: the
    /// follower knows a newer term, or refused it for a lower-numbered leader of the same term.
    public static func isDeposed(by answer: ReplicationAck, term: Int64, me: ReplicaName) -> Bool {
        if answer.term > term { return true }
        guard answer.term == term, !answer.accepted, let theirs = answer.leader.flatMap(ReplicaName.init) else { return false }
        return theirs != me && theirs < me
    }
}
