import BazarModels
import BazarService
import Testing
@testable import BazarReplication
@testable import CatalogService

/// A follower that fell behind (it was paused, or its machine is slow) gets the same entries again
/// after every push that timed out on the leader. It must skip the pushes that a newer one
/// replaced while they waited, or it falls further behind with every retry and never catches up.
@Suite("Follower backlog")
struct FollowerBacklogTests {
    @Test("pushes that waited behind a newer one are skipped, and the turn says what holds it", arguments: Backend.allCases)
    func supersededPushesAreSkipped(backend: Backend) async throws {
        try await backend.withDatabase { leaderDB in
            try await backend.withDatabase { followerDB in
                let leaderStore = CatalogStore(database: leaderDB)
                try await leaderStore.prepare()
                try await CatalogStore(database: followerDB).prepare()
                let leader = try await CatalogStoreTests.leader(leaderDB)
                for i in 0..<6 {
                    _ = try await leader.commit(requestID: "p\(i)") { try await leaderStore.purchase(bookID: 1 + i % 3, requestID: "p\(i)", in: $0) }
                }
                let entries = try #require(try await ReplicationLog(database: leaderDB).entries(after: 0, limit: 100))
                let catalog1 = ReplicaEndpoint(name: ReplicaName("catalog-1")!, url: "http://127.0.0.1:1")
                let follower = CatalogStoreTests.replicator(followerDB, name: "catalog-2", peers: [catalog1])
                try await follower.open()
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
