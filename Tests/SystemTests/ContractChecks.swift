import BazarModels
import BazarService
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The black-box checks of `shared/spec/api.md` through one front end's URL and nothing else: run
/// against the local processes (`ContractTests`) and against a published Bazar
/// (`PublishedContractTests`: what scripts/compose-e2e and scripts/swarm-e2e bring up).
struct ContractChecks: Sendable {
    let front: String
    let adminToken: String

    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, json: String? = nil, headers: [(String, String)] = [], admin: Bool = false
    ) async throws -> BackendClient.Reply {
        // One session for a gateway in front of several front ends (scripts/swarm-e2e's): the
        // cache checks ask one front end's cache. Bazar itself ignores the header.
        var headers = headers + [("X-Bazar-Session", "contract-checks")]
        if admin { headers.append(("Authorization", "Bearer \(adminToken)")) }
        if json != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/json"))
        }
        return try await SystemCluster.client.send(
            method, front + path, body: json.map { ByteBuffer(string: $0) }, headers: headers, timeout: .seconds(30))
    }

    func expectError(_ reply: BackendClient.Reply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "\(reply.text.prefix(300))", sourceLocation: sourceLocation)
        #expect(reply.errorCode == code, sourceLocation: sourceLocation)
        #expect(reply.header("Content-Type") == "application/json; charset=utf-8", sourceLocation: sourceLocation)
    }

    /// Every public route answers as the contract says. Starts by emptying the cache.
    func publicRoutes() async throws {
        #expect(try await call(.DELETE, "/cache", admin: true).status == 204)
        // Search: case-insensitive, URL-encoded, unknown topic gives an empty list.
        let search = try await call(.GET, "/search/Distributed%20Systems")
        #expect(search.status == 200)
        let result = try search.decode(SearchResult.self)
        #expect(result.topic == "Distributed Systems")
        #expect(result.items.map(\.id) == [1, 2, 5])
        #expect(search.header("X-Cache") == "MISS")
        #expect(search.header("X-Served-By")?.hasPrefix("catalog-") == true)
        let again = try await call(.GET, "/search/distributed%20systems")
        #expect(again.header("X-Cache") == "HIT")
        #expect(again.header("X-Served-By") == search.header("X-Served-By"))
        #expect(try again.decode(SearchResult.self).items == result.items)
        #expect(try await call(.GET, "/search/knitting").decode(SearchResult.self).items.isEmpty)

        // Info, with the request id echoed.
        let info = try await call(.GET, "/info/4", headers: [("X-Request-ID", "contract-test-1")])
        #expect(info.header("X-Request-ID") == "contract-test-1")
        let book = try info.decode(BookInfo.self)
        #expect(book.title == "Cooking for the Impatient Undergrad" && book.topic == "undergraduate school")
        let object = try JSONSerialization.jsonObject(with: Data(info.text.utf8)) as? [String: Any]
        #expect(Set(object?.keys.map { $0 } ?? []) == ["id", "title", "topic", "quantity", "price"])
        #expect(info.header("Content-Type") == "application/json; charset=utf-8")

        // Purchase, then the order by id and in the list (enough stock first: a published Bazar
        // may have sold book 4 out).
        #expect(try await call(.POST, "/books/4/restock", json: #"{"count": 2}"#, admin: true).status == 200)
        let purchase = try await call(.POST, "/purchase/4")
        #expect(purchase.status == 200)
        #expect(purchase.header("X-Served-By")?.hasPrefix("order-") == true)
        let order = try purchase.decode(Order.self)
        #expect(order.bookID == 4 && order.title == book.title && order.price == book.price)
        #expect(abs(order.createdAt.timeIntervalSinceNow) < 60)
        let fetched = try await call(.GET, "/orders/\(order.orderID)")
        #expect(try fetched.decode(Order.self) == order)
        let second = try await call(.POST, "/purchase/4").decode(Order.self)
        let list = try await call(.GET, "/orders?limit=2").decode(OrderList.self)
        #expect(list.items == [second, order])

        // The same Idempotency-Key buys once and answers the first order.
        let key = "contract-\(UUID().uuidString)"
        #expect(try await call(.POST, "/books/5/restock", json: #"{"count": 1}"#, admin: true).status == 200)
        let keyed = try await call(.POST, "/purchase/5", headers: [("Idempotency-Key", key)]).decode(Order.self)
        #expect(try await call(.POST, "/purchase/5", headers: [("Idempotency-Key", key)]).decode(Order.self) == keyed)

        // Admin writes.
        let patched = try await call(.PATCH, "/books/3", json: #"{"price": 31.5, "quantity": 7}"#, admin: true)
        #expect(patched.status == 200)
        let record = try patched.decode(Book.self)
        #expect(record.price == Money(cents: 3150) && record.quantity == 7)
        let restocked = try await call(.POST, "/books/3/restock", json: #"{"count": 5}"#, admin: true)
        #expect(try restocked.decode(Book.self).quantity == 12)
        let shown = try await call(.GET, "/info/3").decode(BookInfo.self)
        #expect(shown.quantity == 12 && shown.price == Money(cents: 3150))

        // Cache administration, health, metrics.
        let stats = try await call(.GET, "/cache/stats")
        let counters = try JSONSerialization.jsonObject(with: Data(stats.text.utf8)) as? [String: Int]
        // The contract's counters, plus the two of docs/front-end.md.
        #expect(Set(counters?.keys.map { $0 } ?? []) == ["capacity", "size", "hits", "misses", "evictions", "invalidations", "expirations", "coalesced"])
        #expect((counters?["hits"] ?? 0) >= 1 && (counters?["invalidations"] ?? 0) >= 3)
        #expect(try await call(.DELETE, "/cache", admin: true).status == 204)
        #expect(try await call(.GET, "/info/1").header("X-Cache") == "MISS")
        #expect(try await call(.GET, "/health").status == 200)
        #expect(try await call(.GET, "/ready").status == 200)
        let metrics = try await call(.GET, "/metrics")
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let exposition = try Exposition(metrics.text)
        #expect(exposition.value("bazar_cache_hits_total") ?? 0 >= 1)
        #expect(exposition.value("hb_requests_total", ["http_route": "/info/{id}"]) ?? 0 >= 1)
    }

    /// Every error of the contract that the front end answers, in its shape.
    func errors() async throws {
        expectError(try await call(.GET, "/info/abc"), 400, "invalid_id")
        expectError(try await call(.GET, "/info/-1"), 400, "invalid_id")
        expectError(try await call(.POST, "/purchase/x"), 400, "invalid_id")
        expectError(try await call(.PATCH, "/books/1", json: "{oops", admin: true), 400, "invalid_body")
        expectError(try await call(.PATCH, "/books/1", json: #"{"price": -2}"#, admin: true), 400, "invalid_body")
        expectError(try await call(.PATCH, "/books/1", json: #"{"quantity": -2}"#, admin: true), 400, "invalid_parameter")
        expectError(try await call(.POST, "/books/1/restock", json: #"{"count": 0}"#, admin: true), 400, "invalid_parameter")
        expectError(try await call(.GET, "/orders?limit=-4"), 400, "invalid_parameter")
        expectError(try await call(.PATCH, "/books/1", json: #"{"price": 1}"#), 401, "unauthorized")
        expectError(try await call(.PATCH, "/books/1", json: #"{"price": 1}"#, headers: [("Authorization", "Bearer wrong")]), 401, "unauthorized")
        expectError(try await call(.DELETE, "/cache"), 401, "unauthorized")
        expectError(try await call(.POST, "/internal/cache/invalidate", json: "{}"), 401, "unauthorized")
        expectError(try await call(.GET, "/info/999"), 404, "not_found")
        expectError(try await call(.POST, "/purchase/999"), 404, "not_found")
        expectError(try await call(.GET, "/orders/no-such-order"), 404, "not_found")
        expectError(try await call(.GET, "/no/such/route"), 404, "not_found")
        expectError(try await call(.DELETE, "/info/1"), 405, "method_not_allowed")
        expectError(try await call(.GET, "/purchase/1"), 405, "method_not_allowed")
        expectError(try await call(.GET, "/search/" + String(repeating: "x", count: 5000)), 414, "uri_too_long")
        expectError(try await call(.PATCH, "/books/1", json: #"{"price": 3}"#, headers: [("Content-Type", "text/plain")], admin: true), 415, "unsupported_media_type")
        #expect(try await call(.PATCH, "/books/6", json: #"{"quantity": 0}"#, admin: true).status == 200)
        expectError(try await call(.POST, "/purchase/6"), 409, "out_of_stock")
        #expect(try await call(.PATCH, "/books/6", json: #"{"quantity": 50}"#, admin: true).status == 200)
        let huge = #"{"count": 1, "pad": "\#(String(repeating: "x", count: 70_000))"}"#
        expectError(try await call(.POST, "/books/1/restock", json: huge, admin: true), 413, "payload_too_large")
    }

    /// A purchase shows in /info at once, whichever catalog replica answers, cached before or not.
    func purchaseVisibleAtOnce() async throws {
        #expect(try await call(.POST, "/books/2/restock", json: #"{"count": 1}"#, admin: true).status == 200)
        let before = try await call(.GET, "/info/2").decode(BookInfo.self).quantity
        #expect(try await call(.GET, "/info/2").header("X-Cache") == "HIT")
        #expect(try await call(.POST, "/purchase/2").status == 200)
        let after = try await call(.GET, "/info/2")
        #expect(after.header("X-Cache") == "MISS")
        #expect(try after.decode(BookInfo.self).quantity == before - 1)
        for _ in 0..<6 {
            #expect(try await call(.DELETE, "/cache", admin: true).status == 204)
            let reply = try await call(.GET, "/info/2")
            #expect(try reply.decode(BookInfo.self).quantity == before - 1, "served by \(reply.header("X-Served-By") ?? "?")")
        }
    }

    /// `buyers` concurrent purchases of the last `copies` copies: exactly `copies` succeed, the
    /// others are out of stock, and the book shows none left.
    func lastCopies(book: Int = 1, copies: Int = 10, buyers: Int = 50) async throws {
        #expect(try await call(.PATCH, "/books/\(book)", json: #"{"quantity": \#(copies)}"#, admin: true).status == 200)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<buyers { group.addTask { try await call(.POST, "/purchase/\(book)").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == copies, "\(statuses.sorted())")
        #expect(statuses.filter { $0 == 409 }.count == buyers - copies, "\(statuses.sorted())")
        #expect(try await call(.GET, "/info/\(book)").decode(BookInfo.self).quantity == 0)
        #expect(try await call(.PATCH, "/books/\(book)", json: #"{"quantity": 100}"#, admin: true).status == 200)
    }
}

/// The same checks against a Bazar published elsewhere (compose, Swarm), when
/// `BAZAR_PUBLISHED_URL` names its front end and `BAZAR_PUBLISHED_ADMIN_TOKEN` its admin token:
/// `BAZAR_PUBLISHED_URL=http://127.0.0.1:8080 BAZAR_PUBLISHED_ADMIN_TOKEN=… swift test --filter PublishedContractTests`.
/// Skipped otherwise. It changes the published system's stock and prices, as a user would.
@Suite("Contract: a published Bazar (BAZAR_PUBLISHED_URL)", .serialized, .enabled(if: PublishedBazar.checks != nil))
struct PublishedContractTests {

    @Test("every public route answers as the contract says")
    func publicRoutes() async throws { try await PublishedBazar.checks!.publicRoutes() }

    @Test("every error of the contract, in its shape")
    func errors() async throws { try await PublishedBazar.checks!.errors() }

    @Test("a purchase shows in /info at once, whichever catalog replica answers")
    func purchaseVisibleAtOnce() async throws { try await PublishedBazar.checks!.purchaseVisibleAtOnce() }

    @Test("50 concurrent buyers of the last 10 copies: 10 orders, 40 out of stock")
    func lastCopies() async throws { try await PublishedBazar.checks!.lastCopies() }
}

enum PublishedBazar {
    static let checks: ContractChecks? = {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["BAZAR_PUBLISHED_URL"], !url.isEmpty else { return nil }
        return ContractChecks(front: url, adminToken: environment["BAZAR_PUBLISHED_ADMIN_TOKEN"] ?? "")
    }()
}
