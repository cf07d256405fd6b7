/// `POST /books/{id}/purchase` on a catalog replica: take one copy, at most once per request id.
public struct PurchaseRequest: Codable, Hashable, Sendable {
    public var requestID: String
    public init(requestID: String) { self.requestID = requestID }
    enum CodingKeys: String, CodingKey { case requestID = "request_id" }
}

/// What the catalog answers for a purchase: the book as it was sold (title and price at sale time).
public struct PurchaseReceipt: Codable, Hashable, Sendable {
    public var bookID: Int
    public var title: String
    public var price: Money
    public var requestID: String
    /// The book's version after the sale: a reader that sees an older one missed the sale.
    public var version: Int?

    public init(bookID: Int, title: String, price: Money, requestID: String, version: Int? = nil) {
        self.bookID = bookID
        self.title = title
        self.price = price
        self.requestID = requestID
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case bookID = "book_id"
        case title, price, version
        case requestID = "request_id"
    }
}

/// `POST /orders` on an order replica.
public struct CreateOrderRequest: Codable, Hashable, Sendable {
    public var bookID: Int
    public var requestID: String?

    public init(bookID: Int, requestID: String?) {
        self.bookID = bookID
        self.requestID = requestID
    }

    enum CodingKeys: String, CodingKey {
        case bookID = "book_id"
        case requestID = "request_id"
    }
}

/// `PATCH /books/{id}`: absolute values; a field left out keeps its value.
public struct BookPatch: Codable, Hashable, Sendable {
    public var price: Money?
    public var quantity: Int?

    public init(price: Money? = nil, quantity: Int? = nil) {
        self.price = price
        self.quantity = quantity
    }
}

/// `POST /books/{id}/restock`.
public struct RestockRequest: Codable, Hashable, Sendable {
    public var count: Int
    public init(count: Int) { self.count = count }
}
