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
public struct OrderStore: ReplicatedStore {
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

    /// Records `order`, inside the replicator's transaction. (That a request id gets one order
    /// ever is the replicator's: it answers a repeat with the first order, and this never runs.)
    func record(_ order: Order, in db: any SQLDatabase) async throws -> Written<Order, OrderRecorded> {
        try await Self.insertOrder(order, in: db)
        return Written(order, operation: OrderRecorded(order: order))
    }

    // MARK: Replicated state

    /// Applies a leader's write on a follower.
    public func apply(_ recorded: OrderRecorded, in db: any SQLDatabase) async throws {
        try await Self.insertOrder(recorded.order, in: db)
    }

    public func export(in db: any SQLDatabase) async throws -> [Order] {
        try await db.raw("\(unsafeRaw: Self.columns)").all().map(Self.order(from:))
    }

    public func replace(with orders: [Order], in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM orders").run()
        try await db.insertRows(
            into: "orders", columns: ["order_id", "book_id", "title", "price_cents", "created_at"],
            rows: orders.map { [$0.orderID, $0.bookID, $0.title, $0.price.cents, BazarJSON.rfc3339($0.createdAt)] })
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
