import BazarModels
import BazarReplication
import BazarService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// The order service's routes. A new order takes a copy from the catalog with the order's request
/// id, then commits through the leader's replicator; reads come from this replica.
struct OrderController: Sendable {
    let store: OrderStore
    let replicator: Replicator
    let forwarding: LeaderForwarding
    let catalog: CatalogPurchases
    let settings: ServerSettings

    /// Orders: placed through the leader, read from this replica.
    var routes: RouteTable<BazarRequestContext> {
        RouteTable()
            .post("/orders", use: create)
            .get("/orders/:id", use: order)
            .get("/orders", use: recent)
    }

    @Sendable func create(_ request: Request, context: BazarRequestContext) async throws -> LeaderAnswer<EditedResponse<Order>> {
        let body = try await request.collectBody(limit: context.maxUploadSize)
        let create = try context.requestDecoder.decode(CreateOrderRequest.self, from: body)
        guard create.bookID > 0 else { throw APIError.invalidID("\(create.bookID)") }
        // The first replica that sees an order without an id gives it one, sent on to the
        // leader as Idempotency-Key: it is placed once whatever path it takes.
        let requestID = create.requestID.flatMap { $0.isEmpty ? nil : $0 }
            ?? request.headers[.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } ?? RequestIdentifier.make()
        return try await forwarding.onLeader(request, body: body, context: context, idempotencyKey: requestID) {
            let (order, version) = try await placeOrder(bookID: create.bookID, requestID: requestID, traceID: context.requestID)
            var headers = replicator.servedBy
            if let version { headers[.xBookVersion] = String(version) }
            return EditedResponse(headers: headers, response: order)
        }
    }

    @Sendable func order(_ request: Request, context: BazarRequestContext) async throws -> EditedResponse<Order> {
        let id = context.parameters.get("id") ?? ""
        try await replicator.requireReadable()
        guard let order = try await store.order(id: id) else { throw APIError.notFound("There is no order \(id).") }
        return EditedResponse(headers: replicator.servedBy, response: order)
    }

    @Sendable func recent(_ request: Request, context: BazarRequestContext) async throws -> EditedResponse<OrderList> {
        let limit = try QueryRules.orderLimit(request)
        try await replicator.requireReadable()
        return EditedResponse(headers: replicator.servedBy, response: OrderList(items: try await store.recent(limit: limit)))
    }

    /// The order for `requestID` (the first one, when it was placed before), and the book's
    /// version after the sale when this attempt made it. A repeat that arrives while an attempt
    /// is under way shares its answer (it does not ask the catalog again).
    func placeOrder(bookID: Int, requestID: String, traceID: String) async throws -> (Order, Int?) {
        try await replicator.once(requestID: requestID) { [store, catalog, replicator] in
            if let first = try await replicator.earlierAnswer(Order.self, for: requestID) { return (first, nil) }
            let receipt = try await catalog.take(bookID: bookID, requestID: requestID, traceID: traceID)
            let now = Date()
            // Stored with millisecond precision: the first answer and every repeat must be identical.
            let createdAt = BazarJSON.parseRFC3339(BazarJSON.rfc3339(now)) ?? now
            let order = Order(orderID: OrderID.make(at: now), bookID: bookID, title: receipt.title, price: receipt.price, createdAt: createdAt)
            let committed = try await replicator.commit(requestID: requestID) { db in try await store.record(order, in: db) }
            return (committed.answer, receipt.version)
        }
    }
}
