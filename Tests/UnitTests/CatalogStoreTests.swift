import BazarModels
@testable import BazarReplication
import BazarService
import Logging
import Synchronization
import Testing
@testable import CatalogService

/// The catalog store's suite, run against SQLite and against a real PostgreSQL server, through a
/// single-replica replicator so that every write also goes through the replication log.
@Suite("Catalog store")
struct CatalogStoreTests {
    /// A single-replica replicator that leads, as a lone replica's election makes it.
    static func leader(_ database: DatabaseClient, name: String = "catalog-1") async throws -> Replicator {
        let replicator = replicator(database, name: name, peers: [])
        try await replicator.open()
        try await replicator.becomeLeader(term: 1)
        return replicator
    }

    /// Two catalog replicas' stores, each in its own fresh database with the seed books: a
    /// leader's and a follower's.
    static func withTwoCatalogs(_ backend: Backend, _ body: @Sendable (CatalogStore, CatalogStore) async throws -> Void) async throws {
        try await backend.withDatabase { leaderDB in
            try await backend.withDatabase { followerDB in
                let leader = CatalogStore(database: leaderDB), follower = CatalogStore(database: followerDB)
                try await leader.prepare()
                try await follower.prepare()
                try await body(leader, follower)
            }
        }
    }

    static func replicator(_ database: DatabaseClient, name: String, peers: [ReplicaEndpoint]) -> Replicator {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return Replicator(
            group: ReplicaGroup(me: ReplicaName(name)!, peers: peers), log: ReplicationLog(database: database),
            client: .shared, tokens: .init(admin: "test-admin", internal: "test-internal"), settings: .init(lease: .seconds(5)),
            logger: logger, store: CatalogStore(database: database))
    }

    @Test("seeds the seven books once, and finds topics case-insensitively", arguments: Backend.allCases)
    func seedAndSearch(backend: Backend) async throws {
        try await backend.withDatabase { database in
            let store = CatalogStore(database: database)
            try await store.prepare()
            try await store.prepare()
            #expect(try await store.books(topic: nil).count == 7)
            let distributed = try await store.books(topic: "Distributed SYSTEMS")
            #expect(distributed.map(\.id) == [1, 2, 5])
            #expect(try await store.books(topic: "cooking").isEmpty)
            #expect(try await store.book(id: 3)?.title == "Xen and the Art of Surviving Undergraduate School")
            #expect(try await store.book(id: 99) == nil)
        }
    }

    @Test("a purchase takes one copy, bumps the version, and is applied once per request id", arguments: Backend.allCases)
    func purchase(backend: Backend) async throws {
        try await backend.withDatabase { database in
            let store = CatalogStore(database: database)
            try await store.prepare(seed: [Book(id: 1, title: "One", topic: "t", quantity: 1, price: Money(cents: 500), version: 1)])
            let replicator = try await Self.leader(database)
            let first = try await replicator.commit(requestID: "r1") { try await store.purchase(bookID: 1, requestID: "r1", in: $0) }
            guard case .sold(let receipt) = first.answer, let book = first.operation?.book else { Issue.record("expected a sale, got \(first)"); return }
            #expect(receipt == PurchaseReceipt(bookID: 1, title: "One", price: Money(cents: 500), requestID: "r1", version: 2))
            #expect(book.quantity == 0 && book.version == 2 && !first.isRepeat)
            let again = try await replicator.commit(requestID: "r1") { try await store.purchase(bookID: 1, requestID: "r1", in: $0) }
            guard case .sold(let repeated) = again.answer, again.isRepeat, again.operation == nil else { Issue.record("expected the first receipt, got \(again)"); return }
            #expect(repeated == receipt)
            let other = try await replicator.commit(requestID: "r2") { try await store.purchase(bookID: 1, requestID: "r2", in: $0) }
            guard case .outOfStock = other.answer else { Issue.record("expected out of stock, got \(other)"); return }
            let missing = try await replicator.commit(requestID: "r3") { try await store.purchase(bookID: 9, requestID: "r3", in: $0) }
            guard case .notFound = missing.answer else { Issue.record("expected not found, got \(missing)"); return }
            #expect(try await store.book(id: 1)?.quantity == 0)
            // A refusal is final for its request id, even after a restock.
            _ = try await replicator.commit(requestID: "restock:1") { try await store.restock(bookID: 1, count: 1, in: $0) }
            let replay = try await replicator.commit(requestID: "r2") { try await store.purchase(bookID: 1, requestID: "r2", in: $0) }
            guard case .outOfStock = replay.answer, replay.isRepeat else { Issue.record("expected the first answer, got \(replay)"); return }
            #expect(try await store.book(id: 1)?.quantity == 1)
            // The term-start entry, the sale, the refusal, the restock.
            #expect(try await ReplicationLog(database: database).lastSeq() == 4)
        }
    }

    @Test("50 concurrent buyers of 10 copies: exactly 10 sales, never below zero", arguments: Backend.allCases)
    func concurrentPurchases(backend: Backend) async throws {
        try await backend.withDatabase { database in
            let store = CatalogStore(database: database)
            try await store.prepare(seed: [Book(id: 1, title: "One", topic: "t", quantity: 10, price: Money(cents: 500), version: 1)])
            let replicator = try await Self.leader(database)
            let sales = try await withThrowingTaskGroup(of: Bool.self) { group in
                for buyer in 0..<50 {
                    group.addTask {
                        let outcome = try await replicator.commit(requestID: "b\(buyer)") {
                            try await store.purchase(bookID: 1, requestID: "b\(buyer)", in: $0)
                        }
                        if case .sold = outcome.answer { return true }
                        return false
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(sales == 10)
            #expect(try await store.book(id: 1)?.quantity == 0)
            #expect(try await store.book(id: 1)?.version == 11)
        }
    }

    @Test("price and stock writes set and add, and unknown books are reported", arguments: Backend.allCases)
    func updateAndRestock(backend: Backend) async throws {
        try await backend.withDatabase { database in
            let store = CatalogStore(database: database)
            try await store.prepare()
            let replicator = try await Self.leader(database)
            let priced = try await replicator.commit(requestID: "patch:1") {
                try await store.update(bookID: 2, patch: BookPatch(price: Money(cents: 1234)), in: $0)
            }.answer
            #expect(priced?.price == Money(cents: 1234))
            #expect(priced?.quantity == SeedCatalog.books[1].quantity)
            let emptied = try await replicator.commit(requestID: "patch:2") {
                try await store.update(bookID: 2, patch: BookPatch(quantity: 0), in: $0)
            }.answer
            #expect(emptied?.quantity == 0 && emptied?.price == Money(cents: 1234))
            let restocked = try await replicator.commit(requestID: "restock:r1") { try await store.restock(bookID: 2, count: 5, in: $0) }.answer
            #expect(restocked?.quantity == 5 && restocked?.version == 4)
            // A retried restock adds its copies once: the replicator answers the first record.
            let retried = try await replicator.commit(requestID: "restock:r1") { try await store.restock(bookID: 2, count: 5, in: $0) }
            #expect(retried.answer == restocked && retried.isRepeat)
            #expect(try await store.book(id: 2)?.quantity == 5)
            let missing = try await replicator.commit(requestID: "restock:r2") { try await store.restock(bookID: 42, count: 5, in: $0) }
            #expect(missing.answer == nil)
        }
    }

    @Test("a follower that applies the leader's log ends equal to the leader", arguments: Backend.allCases)
    func followerConverges(backend: Backend) async throws {
        try await Self.withTwoCatalogs(backend) { leaderStore, followerStore in
            let leaderDB = leaderStore.database, followerDB = followerStore.database
            let leader = try await Self.leader(leaderDB)
            for i in 0..<5 {
                _ = try await leader.commit(requestID: "p\(i)") { try await leaderStore.purchase(bookID: 1 + i % 3, requestID: "p\(i)", in: $0) }
            }
            _ = try await leader.commit(requestID: nil) { try await leaderStore.restock(bookID: 7, count: 3, in: $0) }
            let catalog1 = ReplicaEndpoint(name: ReplicaName("catalog-1")!, url: "http://127.0.0.1:1")
            let follower = Self.replicator(followerDB, name: "catalog-2", peers: [catalog1])
            try await follower.open()
            let entries = try #require(try await ReplicationLog(database: leaderDB).entries(after: 0, limit: 100))
            #expect(entries.count == 7)
            #expect(entries[0].isTermStart)
            let numbers = Counter()
            func batch(after previous: Int, _ slice: ArraySlice<ReplicationEntry>, term: Int64 = 1) -> ReplicationBatch {
                ReplicationBatch(leader: "catalog-1", term: term, previousSeq: Int64(previous),
                                 previousTerm: previous == 0 ? 0 : 1, entries: Array(slice), number: numbers.next())
            }
            // A gap is refused and answered with how far the follower is.
            let gap = try await follower.receive(batch(after: 3, entries.dropFirst(3)))
            #expect(gap.accepted == false && gap.lastSeq == 0 && !gap.needsSnapshot)
            #expect(await follower.canServeReads() == false)
            let first = try await follower.receive(batch(after: 0, entries.prefix(4)))
            #expect(first.accepted && first.lastSeq == 4)
            // A repeated push is harmless.
            let rest = try await follower.receive(batch(after: 2, entries.dropFirst(2)))
            #expect(rest.accepted && rest.lastSeq == 7)
            #expect(await follower.canServeReads())
            #expect(try await followerStore.books(topic: nil) == leaderStore.books(topic: nil))
            // The follower remembers request ids too: a later leader there answers the first receipt.
            let repeated = try await followerDB.read { try await ReplicationLog.result(for: "p0", in: $0) }
            #expect(repeated != nil)
            // A push from an older term is refused.
            _ = await follower.group.observe(leader: ReplicaName("catalog-1")!, term: 3)
            let stale = try await follower.receive(batch(after: 7, [][...], term: 2))
            #expect(stale.accepted == false && stale.term == 3)
        }
    }
}

extension CatalogStoreTests {
    @Test("a replica whose log holds entries the leader never had takes the leader's snapshot", arguments: Backend.allCases)
    func divergedReplicaTakesSnapshot(backend: Backend) async throws {
        try await Self.withTwoCatalogs(backend) { leaderStore, staleStore in
            let leaderDB = leaderStore.database, staleDB = staleStore.database
            // The stale replica led term 1 and applied a write nobody else got.
            let stale = try await Self.leader(staleDB, name: "catalog-1")
            _ = try await stale.commit(requestID: "lost") { try await staleStore.purchase(bookID: 1, requestID: "lost", in: $0) }
            _ = try await stale.commit(requestID: "lost2") { try await staleStore.purchase(bookID: 1, requestID: "lost2", in: $0) }
            // The new leader of term 2 wrote something else.
            let leader = try await Self.leader(leaderDB, name: "catalog-2")
            try await leader.becomeLeader(term: 2)
            _ = try await leader.commit(requestID: "kept") { try await leaderStore.purchase(bookID: 2, requestID: "kept", in: $0) }
            let position = try await ReplicationLog(database: leaderDB).lastPosition()
            func heartbeat(_ number: Int64) -> ReplicationBatch {
                ReplicationBatch(leader: "catalog-2", term: 2, previousSeq: position.seq, previousTerm: position.term, entries: [], number: number)
            }
            let answer = try await stale.receive(heartbeat(1))
            #expect(answer.needsSnapshot && !answer.accepted)
            #expect(await stale.group.isLeader == false)
            #expect(await stale.canServeReads() == false)
            let snapshot = ReplicationSnapshot(
                leader: "catalog-2", term: 2, lastSeq: position.seq, lastTerm: position.term,
                state: try JSONResponse.encodeString(try await leaderDB.read { try await leaderStore.export(in: $0) }),
                results: try await leaderDB.read { try await ReplicationLog.allResults(in: $0) }, number: 2)
            let installed = try await stale.install(snapshot)
            #expect(installed.accepted && installed.lastSeq == position.seq)
            #expect(try await staleStore.books(topic: nil) == leaderStore.books(topic: nil))
            #expect(try await staleDB.read { try await ReplicationLog.result(for: "lost", in: $0) } == nil)
            #expect(try await staleDB.read { try await ReplicationLog.result(for: "kept", in: $0) } != nil)
            // The next push continues from the snapshot's position.
            #expect(await stale.canServeReads() == false)
            let next = try await stale.receive(heartbeat(3))
            #expect(next.accepted)
            #expect(await stale.canServeReads())
        }
    }
}


/// Numbers test batches in order, as a leader's stream does.
final class Counter: Sendable {
    private let value = Mutex<Int64>(0)
    func next() -> Int64 { value.withLock { $0 += 1; return $0 } }
}

extension CatalogStoreTests {
    @Test("compaction keeps the newest entries; a follower behind them must take a snapshot", arguments: Backend.allCases)
    func compaction(backend: Backend) async throws {
        try await backend.withDatabase { database in
            let store = CatalogStore(database: database)
            try await store.prepare()
            let leader = try await Self.leader(database)
            for i in 1...30 {
                _ = try await leader.commit(requestID: "c\(i)") { try await store.purchase(bookID: 1 + i % 7, requestID: "c\(i)", in: $0) }
            }
            let log = ReplicationLog(database: database)
            try await log.compact(keeping: 10)
            // 30 sales after the term-start entry.
            #expect(try await log.lastPosition() == ReplicationLog.Position(seq: 31, term: 1))
            #expect(try await log.entries(after: 5, limit: 100) == nil)
            #expect(try await log.entries(after: 21, limit: 100)?.map(\.seq) == Array(22...31))
            #expect(try await log.term(at: 21) == 1)
            #expect(try await log.term(at: 20) == nil)
            // At-most-once outlives compaction.
            let again = try await leader.commit(requestID: "c3") { try await store.purchase(bookID: 4, requestID: "c3", in: $0) }
            guard again.isRepeat, case .sold = again.answer else { Issue.record("expected the first receipt, got \(again)"); return }
        }
    }
}

extension CatalogStoreTests {
    /// With two followers, one must not show an entry before the leader says every in-sync
    /// follower holds it (the commit index it sends with each push): else one follower shows
    /// version N while the other still shows N - 1 (G8).
    @Test("a follower of three answers a read only once the leader's commit index covers what it shows")
    func followerWaitsForCommitIndex() async throws {
        try await Backend.sqlite.withDatabase { leaderDB in
            try await Backend.sqlite.withDatabase { followerDB in
                let leaderStore = CatalogStore(database: leaderDB), followerStore = CatalogStore(database: followerDB)
                try await leaderStore.prepare()
                try await followerStore.prepare()
                let leader = try await Self.leader(leaderDB)
                for i in 0..<3 {
                    _ = try await leader.commit(requestID: "k\(i)") { try await leaderStore.purchase(bookID: 1, requestID: "k\(i)", in: $0) }
                }
                let entries = try #require(try await ReplicationLog(database: leaderDB).entries(after: 0, limit: 100))
                let peers = ["catalog-1", "catalog-3"].map { ReplicaEndpoint(name: ReplicaName($0)!, url: "http://127.0.0.1:1") }
                var logger = Logger(label: "test")
                logger.logLevel = .warning
                let lease = Duration.milliseconds(500)
                let follower = Replicator(
                    group: ReplicaGroup(me: ReplicaName("catalog-2")!, peers: peers), log: ReplicationLog(database: followerDB),
                    client: .shared, tokens: .init(admin: "test-admin", internal: "test-internal"), settings: .init(lease: lease), logger: logger,
                    store: followerStore)
                try await follower.open()
                let last = try #require(entries.last?.seq)
                // The entries arrive, but the leader has heard from only this follower so far.
                let pushed = try await follower.receive(ReplicationBatch(
                    leader: "catalog-1", term: 1, previousSeq: 0, previousTerm: 0, entries: entries, number: 1, committedSeq: last - 1))
                #expect(pushed.accepted && pushed.lastSeq == last)
                #expect(await follower.canServeReads())
                let started = ContinuousClock.now
                await #expect(throws: APIError.self) { try await follower.readCommitted { try await followerStore.book(id: 1) } }
                #expect(ContinuousClock.now - started >= lease)
                // The next heartbeat says every in-sync follower holds it all: the read is answered.
                _ = try await follower.receive(ReplicationBatch(
                    leader: "catalog-1", term: 1, previousSeq: last, previousTerm: 1, entries: [], number: 2, committedSeq: last))
                #expect(try await follower.readCommitted { try await followerStore.book(id: 1) }?.quantity == SeedCatalog.books[0].quantity - 3)
            }
        }
    }
}
