import BazarModels
import BazarReplication
import BazarService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SQLKit

/// An order replica's orders, in SQLite or PostgreSQL (the same SQL through SQLKit).
public struct OrderStore: Sendable {
    public let database: DatabaseClient

    public init(database: DatabaseClient) { self.database = database }

    public func prepare() async throws {
        try await database.transaction { db in
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS orders (
                    order_id TEXT PRIMARY KEY,
                    book_id BIGINT NOT NULL,
                    title TEXT NOT NULL,
                    price_cents BIGINT NOT NULL,
                    created_at TEXT NOT NULL)
                """).run()
            try await db.raw("CREATE INDEX IF NOT EXISTS orders_created_at ON orders (created_at)").run()
            try await ReplicationLog.createSchema(db)
        }
    }

    public func order(id: String) async throws -> Order? {
        try await database.read { db in
            try await db.raw("\(unsafeRaw: Self.columns) WHERE order_id = \(bind: id)").first().map(Self.order(from:))
        }
    }

    /// The newest `limit` orders, newest first.
    public func recent(limit: Int) async throws -> [Order] {
        try await database.read { db in
            try await db.raw("\(unsafeRaw: Self.columns) ORDER BY created_at DESC, order_id DESC LIMIT \(bind: limit)")
                .all().map(Self.order(from:))
        }
    }

    /// The order already recorded for a request id, if any.
    public func order(forRequest requestID: String) async throws -> Order? {
        try await database.read { db in
            try await ReplicationLog.result(for: requestID, in: db).map { try JSONResponse.decode(Order.self, from: $0) }
        }
    }

    /// Records `order` for `requestID` inside the replicator's transaction, unless that request
    /// already has an order: then that first order is the answer and nothing changes.
    func record(_ order: Order, requestID: String, in db: any SQLDatabase) async throws -> Replicator.Outcome<Order> {
        if let stored = try await ReplicationLog.result(for: requestID, in: db) {
            return .init(value: try JSONResponse.decode(Order.self, from: stored), effect: nil)
        }
        try await Self.insert(order, requestID: requestID, in: db)
        return .init(value: order, effect: try JSONResponse.encodeString(OrderRecorded(order: order, requestID: requestID)))
    }

    /// Applies a leader's entry on a follower.
    @Sendable func apply(_ entry: ReplicationEntry, in db: any SQLDatabase) async throws {
        let recorded = try JSONResponse.decode(OrderRecorded.self, from: entry.effect)
        try await Self.insert(recorded.order, requestID: recorded.requestID, in: db)
    }

    /// How the replication layer applies, exports and replaces this store's state.
    public var replicated: ReplicatedState {
        ReplicatedState(
            apply: apply,
            export: { db in try JSONResponse.encodeString(try await db.raw("\(unsafeRaw: Self.columns)").all().map(Self.order(from:))) },
            replace: { state, db in
                try await db.raw("DELETE FROM orders").run()
                let orders = try JSONResponse.decode([Order].self, from: state)
                try await ReplicationLog.insertRows(
                    into: "orders", columns: ["order_id", "book_id", "title", "price_cents", "created_at"],
                    rows: orders.map { [$0.orderID, $0.bookID, $0.title, $0.price.cents, BazarJSON.rfc3339($0.createdAt)] }, in: db)
            })
    }

    static func insert(_ order: Order, requestID: String, in db: any SQLDatabase) async throws {
        try await insertOrder(order, in: db)
        try await ReplicationLog.recordResult(try JSONResponse.encodeString(order), for: requestID, in: db)
    }

    static func insertOrder(_ order: Order, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO orders (order_id, book_id, title, price_cents, created_at)
            VALUES (\(bind: order.orderID), \(bind: order.bookID), \(bind: order.title), \(bind: order.price.cents),
                    \(bind: BazarJSON.rfc3339(order.createdAt)))
            ON CONFLICT (order_id) DO NOTHING
            """).run()
    }

    static let columns = "SELECT order_id, book_id, title, price_cents, created_at FROM orders"

    static func order(from row: any SQLRow) throws -> Order {
        let created = try row.decode(column: "created_at", as: String.self)
        return Order(
            orderID: try row.decode(column: "order_id", as: String.self),
            bookID: try row.decode(column: "book_id", as: Int.self),
            title: try row.decode(column: "title", as: String.self),
            price: Money(cents: try row.decode(column: "price_cents", as: Int.self)),
            createdAt: BazarJSON.parseRFC3339(created) ?? Date(timeIntervalSince1970: 0))
    }
}
