import BazarModels
import BazarService
import SQLKit
import Synchronization
import Testing
@testable import BazarReplication
@testable import CatalogService

/// Writes that wait for the leader's write turn are committed together: one transaction for all
/// that are waiting when the turn comes free, each with its own log entry, in order.
@Suite("Group commit")
struct GroupCommitTests {
    @Test("writes queued behind a slow one commit in one transaction, each with its entry and answer")
    func queuedWritesShareATransaction() async throws {
        try await Backend.postgres.withDatabase { database in
            let store = CatalogStore(database: database)
            try await store.prepare()
            let leader = try await CatalogStoreTests.leader(database)
            let before = try await ReplicationLog(database: database).lastSeq()
            let transactions = TransactionIDs()
            let (released, release) = AsyncStream.makeStream(of: Void.self)
            let holder = Task { try await leader.turn.run("the test's slow write") { for await _ in released { break } } }
            let buyers = 20
            let sales = Task {
                try await withThrowingTaskGroup(of: PurchaseAnswer.self) { group in
                    for i in 0..<buyers {
                        group.addTask {
                            try await leader.commit(requestID: "g\(i)") { db in
                                // PostgreSQL's id of the transaction this write runs in.
                                let id = try await db.raw("SELECT txid_current() AS id").first()!.decode(column: "id", as: Int64.self)
                                transactions.ids.withLock { $0.append(id) }
                                return try await store.purchase(bookID: 1 + i % 7, requestID: "g\(i)", in: db)
                            }.answer
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            // Every buyer is queued (one of them, first in line, waits for the turn itself).
            let deadline = ContinuousClock.now + .seconds(10)
            while await leader.turn.progress()?.waiting != buyers {
                #expect(ContinuousClock.now < deadline)
                guard ContinuousClock.now < deadline else { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            release.yield()
            try await holder.value
            let outcomes = try await sales.value
            #expect(outcomes.count == buyers)
            #expect(outcomes.allSatisfy { if case .sold = $0 { true } else { false } })
            // All twenty ran in the transaction of the first turn holder after the slow write.
            #expect(Set(transactions.ids.withLock { $0 }).count == 1)
            let entries = try #require(try await ReplicationLog(database: database).entries(after: before, limit: 100))
            #expect(entries.map(\.seq) == Array(before + 1...before + Int64(buyers)))
            #expect(Set(entries.compactMap(\.requestID)) == Set((0..<buyers).map { "g\($0)" }))
        }
    }
}

/// The transaction ids that the writes saw, from any task.
final class TransactionIDs: Sendable {
    let ids = Mutex<[Int64]>([])
}
