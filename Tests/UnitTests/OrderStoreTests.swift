import BazarModels
import BazarReplication
import BazarService
import Foundation
import Logging
import Testing
@testable import OrderService

@Suite("Order store")
struct OrderStoreTests {
    func order(_ n: Int, at seconds: Double) -> Order {
        Order(orderID: OrderID.make(at: Date(timeIntervalSince1970: seconds)), bookID: n, title: "Book \(n)",
              price: Money(cents: 100 * n), createdAt: Date(timeIntervalSince1970: seconds))
    }

    @Test("orders are recorded once per request id and listed newest first", arguments: Backend.allCases)
    func recordAndList(backend: Backend) async throws {
        try await backend.withDatabase { database in
            let store = OrderStore(database: database)
            try await store.prepare()
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let replicator = Replicator(
                group: ReplicaGroup(me: ReplicaName("order-1")!, peers: []), log: ReplicationLog(database: database),
                client: .shared, tokens: .init(admin: "test-admin", internal: "test-internal"), settings: .init(), logger: logger, store: store)
            try await replicator.open()
            try await replicator.becomeLeader(term: 1)
            let first = order(1, at: 1_700_000_000)
            let second = order(2, at: 1_700_000_100)
            #expect(try await replicator.commit(requestID: "a") { try await store.record(first, in: $0) }.answer == first)
            #expect(try await replicator.commit(requestID: "b") { try await store.record(second, in: $0) }.answer == second)
            // The same request id again answers the first order, whatever the retry carried.
            let retry = order(1, at: 1_700_000_200)
            #expect(try await replicator.commit(requestID: "a") { try await store.record(retry, in: $0) }.answer == first)
            #expect(try await store.recent(limit: 10) == [second, first])
            #expect(try await store.recent(limit: 1) == [second])
            #expect(try await store.order(id: first.orderID) == first)
            #expect(try await replicator.earlierAnswer(Order.self, for: "b") == second)
            #expect(try await replicator.earlierAnswer(Order.self, for: "c") == nil)
            #expect(try await store.order(id: "nope") == nil)
            #expect(try await ReplicationLog(database: database).lastSeq() == 3)
        }
    }
}
