import BazarModels
import BazarReplication
import BazarService
import SQLKit

/// A catalog replica's books, in SQLite or PostgreSQL (the same SQL through SQLKit).
///
/// Reads go through `database`; writes take the transaction (`db`) that the replicator opens, so
/// that each write commits together with its replication log entry.
public struct CatalogStore: ReplicatedStore {
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

    // MARK: Replicated state

    /// Applies a leader's write on a follower.
    public func apply(_ change: BookChange, in db: any SQLDatabase) async throws {
        try await Self.upsert(change.book, in: db)
    }

    public func export(in db: any SQLDatabase) async throws -> [Book] {
        try await db.raw("\(unsafeRaw: Self.columns) ORDER BY id").all().map(Self.book(from:))
    }

    public func replace(with books: [Book], in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM books").run()
        for book in books { try await Self.upsert(book, in: db) }
    }

    // MARK: Writes, inside the replicator's transaction

    /// Takes one copy: one conditional decrement, never a read followed by a write. A refusal for
    /// lack of stock is an operation too (the book as it is), so that every replica keeps the
    /// request id's answer. (At most once per request id is the replicator's.)
    func purchase(bookID: Int, requestID: String, in db: any SQLDatabase) async throws -> Written<PurchaseAnswer, BookChange> {
        let sold = try await db.raw("""
            UPDATE books SET quantity = quantity - 1, version = version + 1
            WHERE id = \(bind: bookID) AND quantity > 0
            RETURNING id, title, topic, quantity, price_cents, version
            """).first().map(Self.book(from:))
        guard let book = sold else {
            guard let current = try await db.raw("\(unsafeRaw: Self.columns) WHERE id = \(bind: bookID)").first().map(Self.book(from:)) else {
                return Written(.notFound, operation: nil)
            }
            return Written(.outOfStock, operation: BookChange(book: current))
        }
        let receipt = PurchaseReceipt(bookID: book.id, title: book.title, price: book.price, requestID: requestID, version: book.version)
        return Written(.sold(receipt), operation: BookChange(book: book))
    }

    /// Sets price and/or quantity to absolute values; nil when there is no such book.
    func update(bookID: Int, patch: BookPatch, in db: any SQLDatabase) async throws -> Written<Book?, BookChange> {
        let updated = try await db.raw("""
            UPDATE books SET
                price_cents = COALESCE(\(bind: patch.price?.cents), price_cents),
                quantity = COALESCE(\(bind: patch.quantity), quantity),
                version = version + 1
            WHERE id = \(bind: bookID)
            RETURNING id, title, topic, quantity, price_cents, version
            """).first().map(Self.book(from:))
        return Written(updated, operation: updated.map(BookChange.init(book:)))
    }

    /// Adds `count` copies; nil when there is no such book.
    func restock(bookID: Int, count: Int, in db: any SQLDatabase) async throws -> Written<Book?, BookChange> {
        let updated = try await db.raw("""
            UPDATE books SET quantity = quantity + \(bind: count), version = version + 1
            WHERE id = \(bind: bookID)
            RETURNING id, title, topic, quantity, price_cents, version
            """).first().map(Self.book(from:))
        return Written(updated, operation: updated.map(BookChange.init(book:)))
    }

    // MARK: Rows

    static let columns = "SELECT id, title, topic, quantity, price_cents, version FROM books"

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
