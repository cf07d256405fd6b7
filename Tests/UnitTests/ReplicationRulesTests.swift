import BazarModels
import BazarReplication
import BazarService
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
    }

    @Test("a follower's lease lasts what the push granted, a lease at most, and a shorter grant does not cut an earlier one")
    func followerLease() {
        let start = ContinuousClock.now
        var lease = ReadLease(duration: .seconds(1))
        lease.renew(at: start, granted: .milliseconds(300), caughtUp: true)
        #expect(lease.isValid(at: start + .milliseconds(299)) && !lease.isValid(at: start + .milliseconds(300)))
        lease.renew(at: start + .milliseconds(100), granted: .zero, caughtUp: true)
        #expect(lease.isValid(at: start + .milliseconds(299)))
        lease.renew(at: start + .milliseconds(200), granted: .seconds(5), caughtUp: true)
        #expect(lease.isValid(at: start + .milliseconds(1199)) && !lease.isValid(at: start + .milliseconds(1200)))
        lease.renew(at: start + .milliseconds(200), caughtUp: false)
        #expect(!lease.isValid(at: start + .milliseconds(300)))
    }

    @Test("the leader's lease ends with the in-sync followers' oldest confirmation and the majority's")
    func leaderLease() {
        typealias End = LeaderLease.End<Int>
        // A pair: its in-sync follower decides; once dropped, nothing bounds the lease.
        #expect(LeaderLease.end(followers: [(confirmedUntil: 1200, inSync: true)], quorum: Quorum(replicas: 2)) == End.until(1200))
        #expect(LeaderLease.end(followers: [(confirmedUntil: nil, inSync: false)], quorum: Quorum(replicas: 2)) == End.unbounded)
        #expect(LeaderLease.end(followers: [(confirmedUntil: nil, inSync: true)], quorum: Quorum(replicas: 2)) == End.none)
        #expect(LeaderLease.end(followers: [(confirmedUntil: Int?, inSync: Bool)](), quorum: Quorum(replicas: 1)) == End.unbounded)
        // Five: the leader and the two newest confirmations make a majority...
        let five: [(confirmedUntil: Int?, inSync: Bool)] = [(1500, false), (1100, false), (nil, false), (1300, false)]
        #expect(LeaderLease.end(followers: five, quorum: Quorum(replicas: 5)) == End.until(1300))
        // ...and an in-sync follower's older confirmation ends it sooner.
        #expect(LeaderLease.end(followers: five + [(900, true)], quorum: Quorum(replicas: 6)) == End.until(900))
        // Too few confirmations: no lease at all.
        #expect(LeaderLease.end(followers: [(1500, false), (nil, false), (nil, false), (nil, false)], quorum: Quorum(replicas: 5)) == End.none)
        #expect(End.until(1300).holds(at: 1299) && !End.until(1300).holds(at: 1300) && End.unbounded.holds(at: .max) && !End.none.holds(at: 0))
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

    func election(_ replicas: Int, rank: Int = 0, term: Int64 = 3, last: (Int64, Int64) = (3, 10), up: Int = 5) -> ElectionRule {
        ElectionRule(me: ReplicaName(service: "catalog", number: rank + 1), rank: rank, quorum: Quorum(replicas: replicas),
                     term: term, lastTerm: last.0, lastSeq: last.1, sinceStart: .seconds(up), electionTimeout: .milliseconds(1200))
    }

    func status(_ number: Int, _ role: ReplicationStatus.Role = .follower, term: Int64 = 3, last: (Int64, Int64) = (3, 10),
                leader: String = "", inSync: Bool = false) -> ReplicationStatus {
        ReplicationStatus(replica: "catalog-\(number)", role: role, term: term, lastSeq: last.1, leader: leader, inSync: inSync,
                          lastTerm: last.0)
    }

    @Test("a probe's answers: follow a leader, else take over (pair) or stand (majority), else wait")
    func electionDecision() {
        // A replica that leads a term at least as new is followed, by either rule.
        #expect(election(2).decide([status(2, .leader, term: 3, leader: "catalog-2")]) == .follow(Self.two, term: 3))
        #expect(election(3).decide([status(2, .leader, term: 4, leader: "catalog-2")]) == .follow(Self.two, term: 4))
        #expect(election(3, term: 5).decide([status(2, .leader, term: 4, leader: "catalog-2"), status(3)]) == .stand(term: 6))
        // The pair rules: the more up-to-date log takes over, the lower number on a tie.
        #expect(election(2).decide([status(2)]) == .takeOver(term: 4))
        #expect(election(2).decide([status(2, last: (3, 11))]) == .wait)
        #expect(election(2, rank: 1).decide([status(1)]) == .wait)
        // Nobody answered: after a start, an election timeout per place (and one) first.
        #expect(election(2, rank: 1, up: 2).decide([]) == .wait)
        #expect(election(2, rank: 1, up: 3).decide([]) == .takeOver(term: 5))
        // Each of a pair takes over in terms of its own: the lower-numbered in even ones.
        #expect(election(2, term: 4, last: (4, 10)).decide([status(2, term: 4)]) == .takeOver(term: 6))
        #expect(election(2, rank: 1, term: 4, last: (4, 10), up: 3).decide([]) == .takeOver(term: 5))
        #expect(election(1, term: 4, last: (4, 10)).decide([]) == .takeOver(term: 5))
        #expect((0...9).map { ElectionRule.pairTerm(after: $0, rank: 1, replicas: 2) } == [1, 3, 3, 5, 5, 7, 7, 9, 9, 11])
        // A log older than a known term does not take over.
        #expect(election(2, term: 4, last: (3, 50)).decide([status(2, term: 4, last: (3, 10))]) == .wait)
        // The majority rules: only with a majority answering and none of it hearing a leader.
        #expect(election(3).decide([status(2)]) == .stand(term: 4))
        #expect(election(5).decide([status(2)]) == .wait)
        #expect(election(3).decide([status(2, term: 7)]) == .stand(term: 8))
        #expect(election(3).decide([status(2, leader: "catalog-3", inSync: true)]) == .wait)
        #expect(election(3, rank: 2, up: 2).decide([status(1), status(2)]) == .wait)
        // Not when too few of those answering could vote for it: their logs are newer.
        #expect(election(3, last: (3, 9)).decide([status(2), status(3)]) == .wait)
        #expect(election(3, last: (3, 9)).decide([status(2), status(3, last: (3, 9))]) == .stand(term: 4))
        #expect(election(5, last: (2, 90)).decide([status(2), status(3), status(4, last: (2, 90))]) == .wait)
        // A candidacy wins with its own vote and enough granted ones of its term.
        let yes = VoteAnswer(replica: "catalog-2", term: 4, granted: true), stale = VoteAnswer(replica: "catalog-3", term: 3, granted: true)
        #expect(election(3).isElected(term: 4, answers: [yes]))
        #expect(!election(3).isElected(term: 4, answers: [stale]))
        #expect(!election(5).isElected(term: 4, answers: [yes, stale]))
    }
}
