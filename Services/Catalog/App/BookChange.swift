import BazarModels

/// A catalog write as the followers apply it: the book after the write (a post-image, so applying
/// it twice is harmless).
public struct BookChange: Codable, Sendable {
    public var book: Book
}

/// A purchase's answer, which its request id gives forever: the receipt, or the refusal for lack
/// of stock (a replay that arrives late, from a paused replica's socket, must not take a copy
/// after the client was told there was none). Stored as the receipt's JSON or
/// `{"out_of_stock": true}`.
enum PurchaseAnswer: Codable, Sendable {
    case sold(PurchaseReceipt)
    case outOfStock
    case notFound

    private struct Refusal: Codable {
        var outOfStock: Bool?
        var notFound: Bool?
        enum CodingKeys: String, CodingKey {
            case outOfStock = "out_of_stock"
            case notFound = "not_found"
        }
    }

    init(from decoder: any Decoder) throws {
        if let receipt = try? PurchaseReceipt(from: decoder) {
            self = .sold(receipt)
        } else {
            self = try Refusal(from: decoder).notFound == true ? .notFound : .outOfStock
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .sold(let receipt): try receipt.encode(to: encoder)
        case .outOfStock: try Refusal(outOfStock: true).encode(to: encoder)
        case .notFound: try Refusal(notFound: true).encode(to: encoder)
        }
    }
}
