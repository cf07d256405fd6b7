#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A completed purchase. Orders are immutable once recorded.
public struct Order: Codable, Hashable, Sendable {
    public var orderID: String
    public var bookID: Int
    public var title: String
    public var price: Money
    public var createdAt: Date

    public init(orderID: String, bookID: Int, title: String, price: Money, createdAt: Date) {
        self.orderID = orderID
        self.bookID = bookID
        self.title = title
        self.price = price
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case bookID = "book_id"
        case title, price
        case createdAt = "created_at"
    }
}

/// `GET /orders?limit=N`: newest first.
public struct OrderList: Codable, Hashable, Sendable {
    public var items: [Order]
    public init(items: [Order]) { self.items = items }
}

/// Order ids are UUIDv7: unique without coordination and sortable by creation time.
public enum OrderID {
    public static func make(at date: Date = Date()) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - i))) }
        var random = SystemRandomNumberGenerator()
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255, using: &random) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex = bytes.map { $0.zeroPadded(2, radix: 16) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4),
                     hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
