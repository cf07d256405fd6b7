import BazarModels
import BazarReplication
import Testing

/// The protocol's rules on their own, without I/O: quorum, commit and lease counting, the vote,
/// and stepping down.
@Suite("Replication rules")
struct ReplicationRulesTests {
    static let two = ReplicaName("catalog-2")!, three = ReplicaName("catalog-3")!

    @Test("a majority of three or more decides; a pair's in-sync set alone decides")
    func quorum() {
        #expect(Quorum(replicas: 1).usesMajority == false && Quorum(replicas: 2).usesMajority == false)
        #expect(Quorum(replicas: 3).majority == 2 && Quorum(replicas: 4).majority == 3 && Quorum(replicas: 7).majority == 4)
        #expect(Quorum(replicas: 3).isMet(by: 1) == false && Quorum(replicas: 3).isMet(by: 2))
        #expect(Quorum(replicas: 2).isMet(by: 1))
        #expect(CommitRule.mayAcknowledge(inSyncFollowersHoldIt: true, holders: 2, quorum: Quorum(replicas: 3)))
        #expect(!CommitRule.mayAcknowledge(inSyncFollowersHoldIt: true, holders: 1, quorum: Quorum(replicas: 3)))
        #expect(!CommitRule.mayAcknowledge(inSyncFollowersHoldIt: false, holders: 3, quorum: Quorum(replicas: 3)))
        #expect(LeaderLease.holds(inSyncFollowersConfirm: true, confirmations: 1, quorum: Quorum(replicas: 2)))
        #expect(!LeaderLease.holds(inSyncFollowersConfirm: true, confirmations: 2, quorum: Quorum(replicas: 5)))
    }

    func rule(term: Int64 = 3, votedFor: ReplicaName? = nil, last: (Int64, Int64) = (3, 10), live: Bool = false) -> VoteRule {
        VoteRule(me: ReplicaName("catalog-1")!, term: term, votedFor: votedFor, lastTerm: last.0, lastSeq: last.1, hearsLiveLeader: live)
    }

    func request(_ candidate: String = "catalog-2", term: Int64 = 4, last: (Int64, Int64) = (3, 10)) -> VoteRequest {
        VoteRequest(candidate: candidate, term: term, lastSeq: last.1, lastTerm: last.0)
    }

    @Test("one vote per term, for an up-to-date candidate of the service, never while a live leader is heard")
    func vote() {
        let grant = VoteRule.Decision(adoptsTerm: true, grants: true)
        #expect(rule().decide(request()) == grant)
        #expect(rule().decide(request(last: (3, 11))) == grant)
        #expect(rule().decide(request(last: (4, 1))) == grant)
        // Behind: the newer term is adopted, the vote refused.
        #expect(rule().decide(request(last: (3, 9))) == .init(adoptsTerm: true, grants: false))
        #expect(rule().decide(request(last: (2, 50))) == .init(adoptsTerm: true, grants: false))
        // Already voted in this term: only for the same candidate again.
        #expect(rule(term: 4, votedFor: Self.three).decide(request()) == .init(adoptsTerm: false, grants: false))
        #expect(rule(term: 4, votedFor: Self.two).decide(request()) == .init(adoptsTerm: false, grants: true))
        // Older term, a live leader, itself, another service, a name that is none: refused outright.
        let refused = VoteRule.Decision(adoptsTerm: false, grants: false)
        #expect(rule(term: 5).decide(request()) == refused)
        #expect(rule(live: true).decide(request()) == refused)
        #expect(rule().decide(request("catalog-1")) == refused)
        #expect(rule().decide(request("order-2")) == refused)
        #expect(rule().decide(request("nobody")) == refused)
    }

    @Test("terms only grow; within a term the lower-numbered of two leaders stays")
    func stepDown() {
        let one = ReplicaName("catalog-1")!
        #expect(StepDownRule.follows(leader: Self.two, term: 3, current: 2, currentLeader: one, me: one))
        #expect(!StepDownRule.follows(leader: Self.two, term: 1, current: 2, currentLeader: nil, me: one))
        #expect(!StepDownRule.follows(leader: Self.two, term: 2, current: 2, currentLeader: one, me: one))
        #expect(StepDownRule.follows(leader: one, term: 2, current: 2, currentLeader: Self.two, me: Self.two))
        func answer(term: Int64, accepted: Bool, leader: String?) -> ReplicationAck {
            ReplicationAck(replica: "catalog-3", term: term, leader: leader, lastSeq: 0, accepted: accepted)
        }
        #expect(StepDownRule.isDeposed(by: answer(term: 3, accepted: false, leader: nil), term: 2, me: Self.two))
        #expect(StepDownRule.isDeposed(by: answer(term: 2, accepted: false, leader: "catalog-1"), term: 2, me: Self.two))
        #expect(!StepDownRule.isDeposed(by: answer(term: 2, accepted: false, leader: "catalog-3"), term: 2, me: Self.two))
        #expect(!StepDownRule.isDeposed(by: answer(term: 2, accepted: true, leader: "catalog-2"), term: 2, me: Self.two))
    }
}
