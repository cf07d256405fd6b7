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

    func add(to routes: RouteTable<BazarRequestContext>) {
        routes.post("/orders") { request, context in
            let body = try await request.collectBody(limit: settings.maxBodyBytes)
            let create = try JSONResponse.decodeBody(CreateOrderRequest.self, from: body)
            guard create.bookID > 0 else { throw APIError.invalidID("\(create.bookID)") }
            // The first replica that sees an order without an id gives it one, sent on to the
            // leader as Idempotency-Key: it is placed once whatever path it takes.
            let requestID = create.requestID.flatMap { $0.isEmpty ? nil : $0 }
                ?? request.headers[.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } ?? RequestIdentifier.make()
            return try await forwarding.onLeader(request, body: body, context: context, idempotencyKey: requestID) {
                let (order, version) = try await placeOrder(bookID: create.bookID, requestID: requestID, traceID: context.requestID)
                var headers = replicator.servedBy
                if let version { headers[.xBookVersion] = String(version) }
                return JSONResponse.make(order, headers: headers)
            }
        }
        routes.get("/orders/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            try await replicator.requireReadable()
            guard let order = try await store.order(id: id) else { throw APIError.notFound("There is no order \(id).") }
            return JSONResponse.make(order, headers: replicator.servedBy)
        }
        routes.get("/orders") { request, _ in
            let limit = try QueryRules.orderLimit(request)
            try await replicator.requireReadable()
            return JSONResponse.make(OrderList(items: try await store.recent(limit: limit)), headers: replicator.servedBy)
        }
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
