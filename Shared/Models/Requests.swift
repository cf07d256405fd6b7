/// `POST /books/{id}/purchase` on a catalog replica: take one copy, at most once per request id.
public struct PurchaseRequest: Codable, Hashable, Sendable {
    public var requestID: String
    public init(requestID: String) { self.requestID = requestID }
    enum CodingKeys: String, CodingKey, CaseIterable { case requestID = "request_id" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: CodingKeys.self)
        requestID = try container.decode(String.self, forKey: .requestID)
    }
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case bookID = "book_id"
        case requestID = "request_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: CodingKeys.self)
        bookID = try container.decode(Int.self, forKey: .bookID)
        requestID = try container.decodeIfPresent(String.self, forKey: .requestID)
    }
}

/// `PATCH /books/{id}`: absolute values; a field left out keeps its value.
public struct BookPatch: Codable, Hashable, Sendable {
    public var price: Money?
    public var quantity: Int?

    /// The most copies of one book a store holds: far from any integer's end, so that no sum of
    /// stock and restocks a person could type overflows.
    public static let maxQuantity = 1_000_000_000

    public init(price: Money? = nil, quantity: Int? = nil) {
        self.price = price
        self.quantity = quantity
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case price, quantity }

    public init(from decoder: any Decoder) throws {
        // A field left out keeps its value; a field given as null is refused (not taken as left out).
        let container = try decoder.strictContainer(keyedBy: CodingKeys.self)
        price = container.contains(.price) ? try container.decode(Money.self, forKey: .price) : nil
        quantity = container.contains(.quantity) ? try container.decode(Int.self, forKey: .quantity) : nil
    }
}

/// `POST /books/{id}/restock`.
public struct RestockRequest: Codable, Hashable, Sendable {
    public var count: Int
    /// The most copies one restock adds.
    public static let maxCount = 1_000_000

    public init(count: Int) { self.count = count }

    enum CodingKeys: String, CodingKey, CaseIterable { case count }

    public init(from decoder: any Decoder) throws {
        count = try decoder.strictContainer(keyedBy: CodingKeys.self).decode(Int.self, forKey: .count)
    }
}

extension Decoder {
    /// A keyed container that refuses keys outside `Keys`: a misspelt field ("quantitiy") would
    /// otherwise be ignored, and the write would do something else than asked.
    func strictContainer<Keys: CodingKey & CaseIterable>(keyedBy keys: Keys.Type) throws -> KeyedDecodingContainer<Keys> {
        let known = Set(Keys.allCases.map(\.stringValue))
        let present = try container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = present.first(where: { !known.contains($0) }) {
            let expected = Keys.allCases.map { "'\($0.stringValue)'" }.joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath + [AnyKey(stringValue: unknown)], debugDescription: "unknown field (the fields are \(expected))"))
        }
        return try container(keyedBy: Keys.self)
    }
}

/// Any key of a JSON object.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
