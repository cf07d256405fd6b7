/// A book as the catalog keeps it. `version` grows by one with every write to the book, so that
/// readers (the front end's cache, a follower) can tell which of two copies is newer.
public struct Book: Codable, Hashable, Sendable {
    public var id: Int
    public var title: String
    public var topic: String
    public var quantity: Int
    public var price: Money
    public var version: Int

    public init(id: Int, title: String, topic: String, quantity: Int, price: Money, version: Int) {
        self.id = id
        self.title = title
        self.topic = topic
        self.quantity = quantity
        self.price = price
        self.version = version
    }
}

/// The public view of a book (`GET /info/{id}`): everything but the internal version.
public struct BookInfo: Codable, Hashable, Sendable {
    public var id: Int
    public var title: String
    public var topic: String
    public var quantity: Int
    public var price: Money

    public init(_ book: Book) {
        self.id = book.id
        self.title = book.title
        self.topic = book.topic
        self.quantity = book.quantity
        self.price = book.price
    }
}

/// One line of a search answer.
public struct BookSummary: Codable, Hashable, Sendable {
    public var id: Int
    public var title: String

    public init(id: Int, title: String) {
        self.id = id
        self.title = title
    }
}

/// `GET /search/{topic}` on the front end.
public struct SearchResult: Codable, Hashable, Sendable {
    public var topic: String
    public var items: [BookSummary]

    public init(topic: String, items: [BookSummary]) {
        self.topic = topic
        self.items = items
    }
}

/// `GET /books?topic=…` on a catalog replica.
public struct BookList: Codable, Hashable, Sendable {
    public var items: [Book]
    public init(items: [Book]) { self.items = items }
}

/// The key under which a topic is matched: case-insensitive, surrounding blanks ignored.
public func topicKey(_ topic: String) -> String {
    topic.trimmingWhitespace().lowercased()
}
