import BazarModels
import BazarService
import Testing
@testable import BazarReplication
@testable import CatalogService

/// A follower's side of the leader's pushes, on both databases: it applies what continues its log
/// without reading the log, checks everything else against it, and skips the pushes that a newer
/// one replaced while they waited.
@Suite("Follower pushes")
struct FollowerPushTests {
    /// A follower that fell behind (it was paused, or its machine is slow) gets the same entries
    /// again after every push that timed out on the leader. It must skip the pushes that a newer
    /// one replaced while they waited, or it falls further behind with every retry and never
    /// catches up.
    @Test("pushes that waited behind a newer one are skipped, and the turn says what holds it", arguments: Backend.allCases)
    func supersededPushesAreSkipped(backend: Backend) async throws {
        try await CatalogStoreTests.withTwoCatalogs(backend) { leaderStore, followerStore in
            let followerDB = followerStore.database
            let (leader, entries) = try await Self.leader(leaderStore, purchases: 6)
            let follower = try await Self.follower(followerStore)
            func push(_ number: Int64, _ count: Int) -> ReplicationBatch {
                ReplicationBatch(leader: "catalog-1", term: 1, previousSeq: 0, previousTerm: 0, entries: Array(entries.prefix(count)), number: number)
            }

            // A first heartbeat stores the term, so that the pushes below wait only for the slow write.
            #expect(try await follower.receive(push(1, 0)).accepted)
            // Something slow holds the follower's write turn while two pushes arrive.
            let (released, release) = AsyncStream.makeStream(of: Void.self)
            let holder = Task { try await follower.turn.run("the test's slow write") { for await _ in released { break } } }
            try await waitFor { await follower.turn.progress()?.work == "the test's slow write" }
            let older = Task { try await follower.receive(push(2, 3)) }
            try await waitFor { await follower.turn.progress()?.waiting == 1 }
            let newer = Task { try await follower.receive(push(3, entries.count)) }
            try await waitFor { await follower.turn.progress()?.waiting == 2 }
            let progress = try #require(await follower.turn.progress())
            #expect(progress.work == "the test's slow write" && progress.waiting == 2 && progress.heldMs >= 0)
            release.yield()
            try await holder.value

            // The older push was replaced while it waited: it changes nothing and says where the follower stands.
            let skipped = try await older.value
            let applied = try await newer.value
            #expect(applied.accepted && applied.lastSeq == Int64(entries.count))
            #expect(skipped.accepted && skipped.lastSeq == 0)
            #expect(try await ReplicationLog(database: followerDB).lastSeq() == Int64(entries.count))
            #expect(await follower.turn.progress() == nil)
            // The same entries pushed again (the leader's answer was lost) are taken as they are.
            let repeated = try await follower.receive(push(4, entries.count))
            #expect(repeated.accepted && repeated.lastSeq == Int64(entries.count))
            // An entry already here with another term is a log that took another path.
            var conflicting = push(5, entries.count)
            conflicting.entries[2].term = 7
            #expect(try await follower.receive(conflicting).needsSnapshot)
        }
    }

    /// A push that continues the follower's log (nearly every one) is applied without reading the
    /// log first, from the end the follower keeps under its write turn; any other push is checked
    /// against the log as before. Both paths must leave the follower where the leader is, and
    /// refuse what does not fit.
    @Test("continuing pushes land as the leader wrote them; gaps, other terms and snapshots still count", arguments: Backend.allCases)
    func continuingPushes(backend: Backend) async throws {
        try await CatalogStoreTests.withTwoCatalogs(backend) { leaderStore, followerStore in
            let followerDB = followerStore.database
            // The term's first entry and seven purchases.
            let (leader, log) = try await Self.leader(leaderStore, purchases: 7)
            try #require(log.count == 8)
            let follower = try await Self.follower(followerStore)
            var number: Int64 = 0
            func push(after previous: Int64, _ entries: ArraySlice<ReplicationEntry>) -> ReplicationBatch {
                number += 1
                let previousTerm = previous == 0 ? 0 : log[Int(previous) - 1].term
                return ReplicationBatch(leader: "catalog-1", term: 1, previousSeq: previous, previousTerm: previousTerm, entries: Array(entries), number: number)
            }

            // Heartbeats and batches that each continue the log, as a leader in sync sends them.
            #expect(try await follower.receive(push(after: 0, [])).lastSeq == 0)
            #expect(try await follower.receive(push(after: 0, log[0..<1])).lastSeq == 1)
            #expect(try await follower.receive(push(after: 1, [])).lastSeq == 1)
            #expect(try await follower.receive(push(after: 1, log[1..<4])).lastSeq == 4)
            #expect(await follower.lastPosition() == ReplicationLog.Position(seq: 4, term: log[3].term))

            // A push past a gap is refused with where the log ends; one that repeats entries the
            // follower has (its answer was lost) is checked against the log and taken.
            let gap = try await follower.receive(push(after: 5, log[5..<7]))
            #expect(!gap.accepted && gap.lastSeq == 4)
            let repeated = try await follower.receive(push(after: 2, log[2..<6]))
            #expect(repeated.accepted && repeated.lastSeq == 6)
            // A heartbeat at the follower's end but of another term is a log that took another path.
            var otherTerm = push(after: 6, [])
            otherTerm.previousTerm += 1
            #expect(try await follower.receive(otherTerm).needsSnapshot)
            #expect(try await follower.receive(push(after: 6, log[6...])).lastSeq == Int64(log.count))

            // The follower's log and books are the leader's, entry for entry.
            #expect(try await ReplicationLog(database: followerDB).entries(after: 0, limit: 100) == log)
            for id in 1...3 { #expect(try await followerStore.book(id: id) == (try await leaderStore.book(id: id))) }

            // After a snapshot the end the follower keeps is the snapshot's: the next push continues it.
            _ = try await leader.commit(requestID: "p7") { try await leaderStore.purchase(bookID: 4, requestID: "p7", in: $0) }
            var snapshot = try await Replicator.snapshot(turn: leader.turn, log: leader.log, state: leader.state, group: leader.group)
            number += 1
            snapshot.number = number
            #expect(try await follower.install(snapshot).lastSeq == 9)
            number += 1
            let heartbeat = ReplicationBatch(leader: "catalog-1", term: 1, previousSeq: 9, previousTerm: snapshot.lastTerm, entries: [], number: number)
            let afterSnapshot = try await follower.receive(heartbeat)
            #expect(afterSnapshot.accepted && afterSnapshot.lastSeq == 9)
            #expect(try await followerStore.book(id: 4) == (try await leaderStore.book(id: 4)))
        }
    }

    /// A catalog leader (catalog-1, term 1) that sold `purchases` copies, and its log.
    static func leader(_ store: CatalogStore, purchases: Int) async throws -> (Replicator, [ReplicationEntry]) {
        let leader = try await CatalogStoreTests.leader(store.database)
        for i in 0..<purchases {
            _ = try await leader.commit(requestID: "p\(i)") { try await store.purchase(bookID: 1 + i % 3, requestID: "p\(i)", in: $0) }
        }
        return (leader, try #require(try await ReplicationLog(database: store.database).entries(after: 0, limit: 100)))
    }

    /// catalog-2, following catalog-1 (which it never calls: the test pushes to it).
    static func follower(_ store: CatalogStore) async throws -> Replicator {
        let catalog1 = ReplicaEndpoint(name: ReplicaName("catalog-1")!, url: "http://127.0.0.1:1")
        let follower = CatalogStoreTests.replicator(store.database, name: "catalog-2", peers: [catalog1])
        try await follower.open()
        return follower
    }

    /// Polls `condition` until it holds; the wait is bounded so that a broken turn fails the test.
    func waitFor(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
