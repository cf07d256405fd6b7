import BazarService
import Foundation
import NIOCore

/// G1 on a bench run: no book sold more copies than were made available. Before the run each
/// book is restocked up to a floor, and its quantity noted; after it, each book's quantity must be
/// what was there, plus what restocks added, less what purchases sold (within what unanswered
/// writes may have done), and never below zero. Assumes no other client writes meanwhile.
public struct StockCheck: Sendable {
    public let url: String
    public let books: [Int]
    public let adminToken: String?
    /// Quantities after the preparation.
    public private(set) var before: [Int: Int] = [:]

    public init(url: String, books: [Int], adminToken: String?) {
        self.url = url
        self.books = books
        self.adminToken = adminToken
    }

    /// Restocks each book up to `floor` copies, so that the run's purchases find stock.
    public mutating func prepare(floor: Int, client: BackendClient) async throws {
        for book in books {
            var quantity = try await Self.quantity(of: book, url: url, client: client)
            if quantity < floor {
                var headers = [("Content-Type", "application/json")]
                if let adminToken { headers.append(("Authorization", "Bearer \(adminToken)")) }
                let reply = try await client.send(
                    .POST, url + "/books/\(book)/restock", body: ByteBuffer(string: #"{"count": \#(floor - quantity)}"#),
                    headers: headers, timeout: .seconds(30))
                guard reply.isSuccess else {
                    throw LoadError("restocking book \(book) answered \(reply.status)\(reply.status == 401 ? ": give the admin token (--admin-token, BAZAR_ADMIN_TOKEN)" : "")")
                }
                quantity = try await Self.quantity(of: book, url: url, client: client)
            }
            before[book] = quantity
        }
    }

    /// Compares each book's quantity now with what the run's writes account for.
    public func verify(_ effects: WriteEffects, client: BackendClient) async throws -> String {
        var problems: [String] = []
        var sold = 0, available = 0
        for book in books {
            let now = try await Self.quantity(of: book, url: url, client: client)
            let start = before[book, default: 0], added = effects.added[book, default: 0], taken = effects.sold[book, default: 0]
            let expected = start + added - taken
            sold += taken
            available += start + added + effects.maybeAdded[book, default: 0]
            let lowest = expected - effects.maybeSold[book, default: 0], highest = expected + effects.maybeAdded[book, default: 0]
            if now < 0 || taken > start + added + effects.maybeAdded[book, default: 0] || !(lowest...highest).contains(now) {
                problems.append("book \(book): \(start) at the start, \(added) added, \(taken) sold, so \(expected) expected; \(now) now")
            }
        }
        guard problems.isEmpty else { return "VIOLATED: " + problems.joined(separator: "; ") }
        return "holds (\(sold) sold of \(available) made available; every book's stock accounted for)"
    }

    /// A book's quantity as the front end shows it.
    public static func quantity(of book: Int, url: String, client: BackendClient) async throws -> Int {
        let reply = try await client.send(.GET, url + "/info/\(book)", timeout: .seconds(30))
        guard reply.isSuccess, let object = try? JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView)) as? [String: Any],
              let quantity = object["quantity"] as? Int else {
            throw LoadError("GET /info/\(book) answered \(reply.status) without a quantity")
        }
        return quantity
    }

    /// The books the front end lists under `topics`, in order.
    public static func books(under topics: [String], url: String, client: BackendClient) async throws -> [Int] {
        var ids = Set<Int>()
        for topic in topics {
            let path = "/search/" + (topic.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? topic)
            let reply = try await client.send(.GET, url + path, timeout: .seconds(30))
            guard reply.isSuccess, let object = try? JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView)) as? [String: Any],
                  let items = object["items"] as? [[String: Any]] else {
                throw LoadError("GET \(path) answered \(reply.status) without items")
            }
            ids.formUnion(items.compactMap { $0["id"] as? Int })
        }
        guard !ids.isEmpty else { throw LoadError("no book found under the topics \(topics.joined(separator: ", "))") }
        return ids.sorted()
    }
}
