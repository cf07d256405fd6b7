import BazarModels
import BazarReplication
import BazarService
import Hummingbird
import SQLKit

/// The catalog's routes: reads from this replica (while it may serve them), writes through the
/// leader's replicator.
struct CatalogController: Sendable {
    typealias Context = BazarRequestContext
    let store: CatalogStore
    let replicator: Replicator
    let forwarding: LeaderForwarding
    let notifier: FrontEndNotifier
    let settings: ServerSettings

    /// Reads, served by any replica that may serve them (G6).
    var readRoutes: RouteTable<Context> {
        RouteTable()
            .get("/books", use: books)
            .get("/books/:id", use: book)
    }

    /// Sales, which order replicas ask for with an order's request id.
    var purchaseRoutes: RouteTable<Context> {
        RouteTable().post("/books/:id/purchase", use: purchase)
    }

    /// Price and stock changes: the admin token.
    var adminRoutes: RouteTable<Context> {
        RouteTable()
            .patch("/books/:id", use: update)
            .post("/books/:id/restock", use: restock)
    }

    @Sendable func books(_ request: Request, context: Context) async throws -> EditedResponse<BookList> {
        let topic = try request.uri.queryParameters.get("topic").map(QueryRules.topic)
        let books = try await replicator.readCommitted { try await store.books(topic: topic) }
        return EditedResponse(headers: replicator.servedBy, response: BookList(items: books))
    }

    @Sendable func book(_ request: Request, context: Context) async throws -> EditedResponse<Book> {
        let id = try request.positiveID("id", context: context)
        guard let book = try await replicator.readCommitted({ try await store.book(id: id) }) else {
            throw APIError.notFound("There is no book \(id).")
        }
        return EditedResponse(headers: replicator.servedBy, response: book)
    }

    @Sendable func purchase(_ request: Request, context: Context) async throws -> LeaderAnswer<EditedResponse<PurchaseReceipt>> {
        let id = try request.positiveID("id", context: context)
        let body = try await request.collectBody(limit: context.maxUploadSize)
        let purchase = try context.requestDecoder.decode(PurchaseRequest.self, from: body)
        guard !purchase.requestID.isEmpty else { throw APIError(.invalidBody, "request_id must not be empty.") }
        return try await forwarding.onLeader(request, body: body, context: context) {
            switch try await sell(bookID: id, requestID: purchase.requestID) {
            case .sold(let receipt):
                return EditedResponse(headers: replicator.servedBy, response: receipt)
            case .outOfStock:
                throw APIError(.outOfStock, "Book \(id) is out of stock.")
            case .notFound:
                throw APIError.notFound("There is no book \(id).")
            }
        }
    }

    /// A sale on the leader, at most once per request id; the front ends hear of what it changed
    /// before it is answered (and a refusal, or a repeat, is answered once they heard of every
    /// sale it shows: the replicator waits for the shown point).
    func sell(bookID id: Int, requestID: String) async throws -> PurchaseAnswer {
        try await replicator.once(requestID: requestID) { [store, notifier, replicator] in
            try await replicator.commit(requestID: requestID) { db in
                try await store.purchase(bookID: id, requestID: requestID, in: db)
            } announce: { change in
                await notifier.bookChanged(change.book)
            }.answer
        }
    }

    @Sendable func update(_ request: Request, context: Context) async throws -> LeaderAnswer<EditedResponse<Book>> {
        try settings.tokens.requireAdmin(request)
        let id = try request.positiveID("id", context: context)
        let body = try await request.collectBody(limit: context.maxUploadSize)
        let patch = try context.requestDecoder.decode(BookPatch.self, from: body)
        guard patch.price != nil || patch.quantity != nil else {
            throw APIError(.invalidBody, "Give at least one of price and quantity.")
        }
        if let quantity = patch.quantity, !(0...BookPatch.maxQuantity).contains(quantity) {
            throw APIError(.invalidParameter, "quantity must be a whole number from 0 to \(BookPatch.maxQuantity).")
        }
        let key = Self.idempotencyKey(request)
        return try await forwarding.onLeader(request, body: body, context: context, idempotencyKey: key) {
            try await written(id, requestID: "patch:\(key)") { db in try await store.update(bookID: id, patch: patch, in: db) }
        }
    }

    @Sendable func restock(_ request: Request, context: Context) async throws -> LeaderAnswer<EditedResponse<Book>> {
        try settings.tokens.requireAdmin(request)
        let id = try request.positiveID("id", context: context)
        let body = try await request.collectBody(limit: context.maxUploadSize)
        let restock = try context.requestDecoder.decode(RestockRequest.self, from: body)
        guard (1...RestockRequest.maxCount).contains(restock.count) else {
            throw APIError(.invalidParameter, "count must be a whole number from 1 to \(RestockRequest.maxCount).")
        }
        let key = Self.idempotencyKey(request)
        return try await forwarding.onLeader(request, body: body, context: context, idempotencyKey: key) {
            try await written(id, requestID: "restock:\(key)") { db in try await store.restock(bookID: id, count: restock.count, in: db) }
        }
    }

    /// A price or stock write: the new record, after the front ends were told.
    func written(
        _ id: Int, requestID: String, _ write: @escaping @Sendable (any SQLDatabase) async throws -> Written<Book?, BookChange>
    ) async throws -> EditedResponse<Book> {
        let book = try await replicator.once(requestID: requestID) { [replicator, notifier] in
            try await replicator.commit(requestID: requestID, write) { change in
                await notifier.bookChanged(change.book)
            }.answer
        }
        guard let book else { throw APIError.notFound("There is no book \(id).") }
        return EditedResponse(headers: replicator.servedBy, response: book)
    }

    /// An admin write's `Idempotency-Key`, or a new one when it came without: made by the first
    /// replica that sees the write, so that the leader records it once whatever path it takes.
    /// (Its request id puts the kind in front, apart from purchase request ids.)
    static func idempotencyKey(_ request: Request) -> String {
        request.headers[.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } ?? RequestIdentifier.make()
    }
}
