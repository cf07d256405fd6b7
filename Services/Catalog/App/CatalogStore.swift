import BazarModels
import BazarReplication
import BazarService
import SQLKit

/// A catalog replica's books, in SQLite or PostgreSQL (the same SQL through SQLKit).
///
/// Reads go through `database`; writes take the transaction (`db`) that the replicator opens, so
/// that each write commits together with its replication log entry.
public struct CatalogStore: Sendable {
    public let database: DatabaseClient

    public init(database: DatabaseClient) { self.database = database }

    /// Creates the schema, and loads the seed books into an empty catalog.
    public func prepare(seed: [Book] = SeedCatalog.books) async throws {
        try await database.transaction { db in
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS books (
                    id BIGINT PRIMARY KEY,
                    title TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    topic_key TEXT NOT NULL,
                    quantity BIGINT NOT NULL CHECK (quantity >= 0),
                    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
                    version BIGINT NOT NULL)
                """).run()
            try await db.raw("CREATE INDEX IF NOT EXISTS books_topic_key ON books (topic_key)").run()
            try await ReplicationLog.createSchema(db)
            let count = try await db.raw("SELECT COUNT(*) AS n FROM books").first()?.decode(column: "n", as: Int.self) ?? 0
            if count == 0 {
                for book in seed { try await Self.upsert(book, in: db) }
            }
        }
    }

    public func book(id: Int) async throws -> Book? {
        try await database.read { db in
            try await db.raw("\(unsafeRaw: Self.columns) WHERE id = \(bind: id)").first().map(Self.book(from:))
        }
    }

    /// Books of a topic (matched case-insensitively), or every book when `topic` is nil.
    public func books(topic: String?) async throws -> [Book] {
        try await database.read { db in
            let rows = if let topic {
                try await db.raw("\(unsafeRaw: Self.columns) WHERE topic_key = \(bind: topicKey(topic)) ORDER BY id").all()
            } else {
                try await db.raw("\(unsafeRaw: Self.columns) ORDER BY id").all()
            }
            return try rows.map(Self.book(from:))
        }
    }

    // MARK: Writes, inside the replicator's transaction

    public enum PurchaseOutcome: Sendable {
        case sold(PurchaseReceipt, Book)
        case repeated(PurchaseReceipt)
        case outOfStock
        case notFound
    }

    /// Takes one copy for `requestID`, at most once ever: one conditional decrement, never a read
    /// followed by a write.
    func purchase(bookID: Int, requestID: String, in db: any SQLDatabase) async throws -> Replicator.Outcome<PurchaseOutcome> {
        if let stored = try await ReplicationLog.result(for: requestID, in: db) {
            if let receipt = try? JSONResponse.decode(PurchaseReceipt.self, from: stored) {
                return .init(value: .repeated(receipt), effect: nil)
            }
            return .init(value: .outOfStock, effect: nil)
        }
        let sold = try await db.raw("""
            UPDATE books SET quantity = quantity - 1, version = version + 1
            WHERE id = \(bind: bookID) AND quantity > 0
            RETURNING id, title, topic, quantity, price_cents, version
            """).first().map(Self.book(from:))
        guard let book = sold else {
            guard let current = try await db.raw("\(unsafeRaw: Self.columns) WHERE id = \(bind: bookID)").first().map(Self.book(from:)) else {
                return .init(value: .notFound, effect: nil)
            }
            // The refusal is this request id's answer from now on, on every replica.
            let refusal = try JSONResponse.encodeString(PurchaseRefusal(outOfStock: true))
            try await ReplicationLog.recordResult(refusal, for: requestID, in: db)
            return .init(value: .outOfStock, effect: try JSONResponse.encodeString(BookChange(book: current, result: refusal)))
        }
        let receipt = PurchaseReceipt(bookID: book.id, title: book.title, price: book.price, requestID: requestID, version: book.version)
        let result = try JSONResponse.encodeString(receipt)
        try await ReplicationLog.recordResult(result, for: requestID, in: db)
        return .init(value: .sold(receipt, book), effect: try JSONResponse.encodeString(BookChange(book: book, result: result)))
    }

    /// Sets price and/or quantity to absolute values; once per request id.
    func update(bookID: Int, patch: BookPatch, requestID: String?, in db: any SQLDatabase) async throws -> Replicator.Outcome<Book?> {
        if let first = try await Self.earlierResult(of: requestID, in: db) { return first }
        let updated = try await db.raw("""
            UPDATE books SET
                price_cents = COALESCE(\(bind: patch.price?.cents), price_cents),
                quantity = COALESCE(\(bind: patch.quantity), quantity),
                version = version + 1
            WHERE id = \(bind: bookID)
            RETURNING id, title, topic, quantity, price_cents, version
            """).first().map(Self.book(from:))
        return try await Self.changed(updated, requestID: requestID, in: db)
    }

    /// Adds `count` copies; once per request id, so that a retried restock adds them once.
    func restock(bookID: Int, count: Int, requestID: String?, in db: any SQLDatabase) async throws -> Replicator.Outcome<Book?> {
        if let first = try await Self.earlierResult(of: requestID, in: db) { return first }
        let updated = try await db.raw("""
            UPDATE books SET quantity = quantity + \(bind: count), version = version + 1
            WHERE id = \(bind: bookID)
            RETURNING id, title, topic, quantity, price_cents, version
            """).first().map(Self.book(from:))
        return try await Self.changed(updated, requestID: requestID, in: db)
    }

    /// Applies a leader's entry on a follower.
    @Sendable func apply(_ entry: ReplicationEntry, in db: any SQLDatabase) async throws {
        let change = try JSONResponse.decode(BookChange.self, from: entry.effect)
        try await Self.upsert(change.book, in: db)
        if let result = change.result, let requestID = entry.requestID {
            try await ReplicationLog.recordResult(result, for: requestID, in: db)
        }
    }

    /// How the replication layer applies, exports and replaces this store's state.
    public var replicated: ReplicatedState {
        ReplicatedState(
            apply: apply,
            export: { db in try JSONResponse.encodeString(try await db.raw("\(unsafeRaw: Self.columns) ORDER BY id").all().map(Self.book(from:))) },
            replace: { state, db in
                try await db.raw("DELETE FROM books").run()
                for book in try JSONResponse.decode([Book].self, from: state) { try await Self.upsert(book, in: db) }
            })
    }

    // MARK: Rows

    static let columns = "SELECT id, title, topic, quantity, price_cents, version FROM books"

    /// The outcome of a price or stock write; its request id, if any, will answer the same book.
    static func changed(_ book: Book?, requestID: String?, in db: any SQLDatabase) async throws -> Replicator.Outcome<Book?> {
        guard let book else { return .init(value: nil, effect: nil) }
        let result = try JSONResponse.encodeString(book)
        if let requestID { try await ReplicationLog.recordResult(result, for: requestID, in: db) }
        return .init(value: book, effect: try JSONResponse.encodeString(BookChange(book: book, result: requestID == nil ? nil : result)))
    }

    static func earlierResult(of requestID: String?, in db: any SQLDatabase) async throws -> Replicator.Outcome<Book?>? {
        guard let requestID, let stored = try await ReplicationLog.result(for: requestID, in: db) else { return nil }
        return .init(value: try JSONResponse.decode(Book.self, from: stored), effect: nil)
    }

    static func upsert(_ book: Book, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO books (id, title, topic, topic_key, quantity, price_cents, version)
            VALUES (\(bind: book.id), \(bind: book.title), \(bind: book.topic), \(bind: topicKey(book.topic)),
                    \(bind: book.quantity), \(bind: book.price.cents), \(bind: book.version))
            ON CONFLICT (id) DO UPDATE SET title = excluded.title, topic = excluded.topic,
                topic_key = excluded.topic_key, quantity = excluded.quantity,
                price_cents = excluded.price_cents, version = excluded.version
            """).run()
    }

    static func book(from row: any SQLRow) throws -> Book {
        Book(
            id: try row.decode(column: "id", as: Int.self),
            title: try row.decode(column: "title", as: String.self),
            topic: try row.decode(column: "topic", as: String.self),
            quantity: try row.decode(column: "quantity", as: Int.self),
            price: Money(cents: try row.decode(column: "price_cents", as: Int.self)),
            version: try row.decode(column: "version", as: Int.self))
    }
}
