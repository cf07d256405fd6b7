import BazarModels
import BazarReplication
import BazarService
import CatalogService
import Foundation
import FrontService
import Hummingbird
import HummingbirdTesting
import OrderService
import Testing

/// The three services' routers in process (`app.test(.router)`): a single-replica catalog and
/// order service on SQLite, and a front end whose back ends are all unreachable.
@Suite("Routers")
struct RouterTests {
    static let unreachable = [ReplicaEndpoint(name: ReplicaName("catalog-1")!, url: "http://127.0.0.1:1")]

    static func tempDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("bazar-router-\(UUID().uuidString).sqlite").path
    }

    static func server(admin: String = "admin-secret", internal: String = "internal-secret") -> ServerSettings {
        ServerSettings(port: 0, logLevel: .warning, tokens: AccessTokens(admin: admin, internal: `internal`), maxBodyBytes: 1024,
                       backendTimeout: .milliseconds(300), requestDeadline: .milliseconds(600))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONResponse.decode(T.self, from: response.body)
    }

    /// A lone replica leads once its election has run: wait for that.
    static func waitUntilReady(_ client: some TestClientProtocol) async throws {
        for _ in 0..<100 {
            if try await client.execute(uri: "/ready", method: .get, headers: [:], body: nil).status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the replica never became ready")
    }

    static func errorCode(_ response: TestResponse) -> String? {
        (try? decode(ErrorBody.self, response))?.error.code
    }

    @Test("catalog: reads, purchase, admin writes, and every error shape")
    func catalog() async throws {
        let me = ReplicaName("catalog-1")!
        let app = try await buildCatalogApplication(CatalogConfiguration(
            server: Self.server(), replica: ReplicaSettings(me: me, peers: [], databaseURL: Self.tempDatabase())))
        try await app.test(.router) { client in
            try await Self.waitUntilReady(client)
            try await client.execute(uri: "/books/1", method: .get, headers: [.xRequestID: "trace-1"]) { (response) throws in
                #expect(response.status == .ok)
                #expect(response.headers[.xServedBy] == "catalog-1")
                #expect(response.headers[.xRequestID] == "trace-1")
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(try Self.decode(Book.self, response) == SeedCatalog.books[0])
            }
            try await client.execute(uri: "/books?topic=UNDERGRADUATE%20school", method: .get) { (response) throws in
                #expect(try Self.decode(BookList.self, response).items.map(\.id) == [3, 4, 6, 7])
            }
            try await client.execute(uri: "/books/abc", method: .get) { #expect(Self.errorCode($0) == "invalid_id") }
            try await client.execute(uri: "/books/0", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/books/99", method: .get) { #expect(Self.errorCode($0) == "not_found") }
            try await client.execute(uri: "/books/1", method: .delete) { (response) throws in
                #expect(response.status == .methodNotAllowed)
                #expect(Self.errorCode(response) == "method_not_allowed")
            }
            try await client.execute(uri: "/nowhere", method: .get) { #expect(Self.errorCode($0) == "not_found") }
            try await client.execute(uri: "/books/1/purchase", method: .post, body: ByteBuffer(string: "{not json")) { (response) throws in
                #expect(response.status == .badRequest)
                #expect(Self.errorCode(response) == "invalid_body")
            }
            try await client.execute(uri: "/books/1/purchase", method: .post,
                                     body: ByteBuffer(string: #"{"request_id":"\#(String(repeating: "x", count: 2000))"}"#)) { (response) throws in
                #expect(response.status == .contentTooLarge)
                #expect(Self.errorCode(response) == "payload_too_large")
            }
            try await client.execute(uri: "/books/1/purchase", method: .post, body: ByteBuffer(string: #"{"request_id":"r-1"}"#)) { (response) throws in
                #expect(response.status == .ok)
                #expect(try Self.decode(PurchaseReceipt.self, response).bookID == 1)
            }
            try await client.execute(uri: "/books/1", method: .patch, body: ByteBuffer(string: #"{"price": 9.5}"#)) { (response) throws in
                #expect(response.status == .unauthorized)
                #expect(Self.errorCode(response) == "unauthorized")
            }
            try await client.execute(uri: "/books/1", method: .patch, headers: [.authorization: "Bearer admin-secret"],
                                     body: ByteBuffer(string: #"{"price": 9.5}"#)) { (response) throws in
                let book = try Self.decode(Book.self, response)
                #expect(book.price == Money(cents: 950) && book.quantity == SeedCatalog.books[0].quantity - 1 && book.version == 3)
            }
            try await client.execute(uri: "/books/1/restock", method: .post, headers: [.authorization: "Bearer admin-secret"],
                                     body: ByteBuffer(string: #"{"count": 0}"#)) { #expect(Self.errorCode($0) == "invalid_parameter") }
            try await client.execute(uri: "/internal/replication/append", method: .post,
                                     body: ByteBuffer(string: #"{"leader":"catalog-2","term":9,"previous_seq":0,"entries":[]}"#)) { (response) throws in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/replication/status", method: .get) { (response) throws in
                let status = try Self.decode(ReplicationStatus.self, response)
                #expect(status.role == .leader && status.leader == "catalog-1" && status.lastSeq == 3 && status.inSync)
            }
            try await client.execute(uri: "/ready", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("order: validation, empty history, and 503 when no catalog answers")
    func order() async throws {
        let me = ReplicaName("order-1")!
        let app = try await buildOrderApplication(OrderConfiguration(
            server: Self.server(), replica: ReplicaSettings(me: me, peers: [], databaseURL: Self.tempDatabase()),
            catalogs: Self.unreachable))
        try await app.test(.router) { client in
            try await Self.waitUntilReady(client)
            try await client.execute(uri: "/orders", method: .get) { (response) throws in
                #expect(try Self.decode(OrderList.self, response).items.isEmpty)
            }
            try await client.execute(uri: "/orders?limit=abc", method: .get) { #expect(Self.errorCode($0) == "invalid_parameter") }
            try await client.execute(uri: "/orders?limit=0", method: .get) { #expect(Self.errorCode($0) == "invalid_parameter") }
            try await client.execute(uri: "/orders/none", method: .get) { #expect(Self.errorCode($0) == "not_found") }
            try await client.execute(uri: "/orders", method: .post, body: ByteBuffer(string: #"{"book_id": -3}"#)) {
                #expect(Self.errorCode($0) == "invalid_id")
            }
            try await client.execute(uri: "/orders", method: .post, body: ByteBuffer(string: #"{"book":1}"#)) {
                #expect(Self.errorCode($0) == "invalid_body")
            }
            try await client.execute(uri: "/orders", method: .post, body: ByteBuffer(string: #"{"book_id": 1}"#)) { (response) throws in
                #expect(response.status == .serviceUnavailable)
                #expect(Self.errorCode(response) == "unavailable")
            }
            try await client.execute(uri: "/orders", method: .get) { (response) throws in
                #expect(try Self.decode(OrderList.self, response).items.isEmpty)
            }
        }
    }

    @Test("front end: cache administration, invalidation, and 503 without back ends")
    func front() async throws {
        let app = try await buildFrontApplication(FrontConfiguration(
            server: Self.server(), catalogs: Self.unreachable,
            orders: [ReplicaEndpoint(name: ReplicaName("order-1")!, url: "http://127.0.0.1:1")], cacheCapacity: 5))
        try await app.test(.router) { client in
            try await client.execute(uri: "/info/1", method: .get) { (response) throws in
                #expect(response.status == .serviceUnavailable)
                #expect(Self.errorCode(response) == "unavailable")
                #expect(response.headers[.xRequestID]?.isEmpty == false)
            }
            try await client.execute(uri: "/info/x", method: .get) { #expect(Self.errorCode($0) == "invalid_id") }
            try await client.execute(uri: "/purchase/1", method: .get) { #expect(Self.errorCode($0) == "method_not_allowed") }
            try await client.execute(uri: "/purchase/1", method: .post) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/ready", method: .get) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/cache", method: .delete) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/cache", method: .delete, headers: [.authorization: "Bearer admin-secret"]) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/books/1", method: .patch, body: ByteBuffer(string: #"{"price": 1}"#)) {
                #expect($0.status == .unauthorized)
            }
            let notice = ByteBuffer(string: #"{"book_id": 1, "topic": "t", "version": 4}"#)
            try await client.execute(uri: "/internal/cache/invalidate", method: .post, body: notice) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/internal/cache/invalidate", method: .post,
                                     headers: [.authorization: "Bearer internal-secret"], body: notice) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/cache/stats", method: .get) { (response) throws in
                let stats = try Self.decode(CacheStats.self, response)
                #expect(stats.capacity == 5 && stats.invalidations == 1 && stats.size == 0 && stats.misses == 1)
            }
        }
    }
}
