import BazarModels
import BazarService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import NIOHTTP1

/// The public API: reads through the cache, purchases and order look-ups through the order
/// replicas, admin writes through the catalog.
struct FrontController: Sendable {
    let reads: CatalogReads
    let cache: ReadCache
    let catalogs: ReplicaRotation
    let orders: ReplicaRotation
    let client: BackendClient
    let settings: ServerSettings
    let board: ReplicaBoard
    let metrics = FrontMetrics()
    let traffic = TrafficMeter()

    typealias Context = BazarRequestContext

    /// What clients call: reads through the cache, purchases, order look-ups.
    var publicRoutes: RouteTable<Context> {
        RouteTable()
            .add(middleware: TrafficMeterMiddleware(meter: traffic))
            .get("/search/:topic", use: search)
            .get("/info/:id", use: info)
            .post("/purchase/:id", use: purchase)
            .get("/orders/:id", use: order)
            .get("/orders", use: recentOrders)
    }

    /// What operators call with the admin token: price and stock changes, emptying the cache.
    var adminRoutes: RouteTable<Context> {
        RouteTable()
            .add(middleware: TrafficMeterMiddleware(meter: traffic))
            .patch("/books/:id") { request, context in
                try await adminWrite(request, context: context, path: "/books/\(try request.positiveID("id", context: context))")
            }
            .post("/books/:id/restock") { request, context in
                try await adminWrite(request, context: context, path: "/books/\(try request.positiveID("id", context: context))/restock")
            }
            .delete("/cache", use: emptyCache)
    }

    /// What catalog leaders call with the internal token: invalidations.
    var internalRoutes: RouteTable<Context> {
        RouteTable(startsTraces: false).post("/internal/cache/invalidate", use: invalidate)
    }

    /// What probes, scrapers and people watching call, open: cache statistics, metrics,
    /// liveness, readiness, the contract and the status page.
    var operationalRoutes: RouteTable<Context> {
        let routes = RouteTable<Context>(startsTraces: false)
            .get("/cache/stats") { _, _ in await cache.currentStats() }
            .get("/status", use: status)
            .get("/health") { _, _ in Liveness.current }
            .get("/ready", use: ready)
            // The contract, as docs/openapi.yaml says it (built in; see Plugins/EmbedOpenAPI).
            .get("/openapi.yaml") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
            }
        ServiceMetrics.addRoute(to: routes) {
            await metrics.publish(await cache.currentStats(), replicas: catalogs.states() + orders.states())
        }
        return routes
    }

    @Sendable func search(_ request: Request, context: Context) async throws -> EditedResponse<SearchResult> {
        let raw = context.parameters.get("topic") ?? ""
        let topic = try QueryRules.topic(raw.percentDecoded ?? raw)
        let answer = try await reads.search(topic, context: context)
        guard case .search(let items) = answer.value else { throw APIError(.internalError, "cache mix-up") }
        return EditedResponse(headers: headers(answer), response: SearchResult(topic: topic, items: items))
    }

    /// A book's record: the bytes the replica sent when they are at hand (no decode and encode
    /// on the hot path), else the cached value.
    @Sendable func info(_ request: Request, context: Context) async throws -> Response {
        let id = try request.positiveID("id", context: context)
        let answer = try await reads.info(id, context: context)
        guard case .info(let info) = answer.value else { throw APIError(.internalError, "cache mix-up") }
        var fields = headers(answer)
        if let version = answer.versions[id] { fields[.xBookVersion] = String(version) }
        if let body = answer.body { return JSONResponse.raw(body, status: .ok, headers: fields) }
        return try JSONResponse.make(info, headers: fields)
    }

    @Sendable func purchase(_ request: Request, context: Context) async throws -> Response {
        let id = try request.positiveID("id", context: context)
        // The request id makes the purchase at-most-once across retries (G5).
        let requestID = request.headers[.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } ?? RequestIdentifier.make()
        let body = try JSONResponse.encode(CreateOrderRequest(bookID: id, requestID: requestID))
        return try await relay(orders, service: "order", context: context, write: true) { order, timeout in
            try await client.send(.POST, order.url + "/orders", body: body, headers: forwarded(context), timeout: timeout)
        }
    }

    @Sendable func order(_ request: Request, context: Context) async throws -> Response {
        let path = "/orders/" + (context.parameters.get("id") ?? "").percentEncodedComponent
        return try await relay(orders, service: "order", context: context) { order, timeout in
            try await client.send(.GET, order.url + path, headers: forwarded(context), timeout: timeout)
        }
    }

    @Sendable func recentOrders(_ request: Request, context: Context) async throws -> Response {
        // Only the checked number goes on: the client's query is not passed through.
        let query = "?limit=\(try QueryRules.orderLimit(request))"
        return try await relay(orders, service: "order", context: context) { order, timeout in
            try await client.send(.GET, order.url + "/orders" + query, headers: forwarded(context), timeout: timeout)
        }
    }

    @Sendable func emptyCache(_ request: Request, context: Context) async throws -> HTTPResponse.Status {
        try settings.tokens.requireAdmin(request)
        await cache.removeAll()
        return .noContent
    }

    @Sendable func invalidate(_ request: Request, context: Context) async throws -> HTTPResponse.Status {
        try settings.tokens.requireInternal(request)
        // A batch from a catalog leader; a single notice is taken as a batch of one.
        let body = try await request.collectBody(limit: context.maxUploadSize)
        let batch = try (try? JSONResponse.decode(CacheInvalidationBatch.self, from: body))
            ?? CacheInvalidationBatch(items: [context.requestDecoder.decode(CacheInvalidation.self, from: body)])
        for notice in batch.items { await cache.invalidate(notice) }
        return .noContent
    }

    /// The status page, or what it shows as JSON for `Accept: application/json` (the page itself
    /// and `bazar status` ask so).
    @Sendable func status(_ request: Request, context: Context) async throws -> Response {
        guard request.headers[.accept]?.contains("application/json") == true else {
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: StatusPage.html)))
        }
        let seen = await board.snapshot()
        var response = try JSONResponse.make(SystemStatus(
            takenAt: Date(), front: traffic.snapshot(), cache: await cache.currentStats(),
            replicas: seen.replicas, leaderChanges: seen.changes))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> FrontReadiness {
        guard catalogs.anyUp, orders.anyUp else {
            throw APIError.unavailable("The front end needs at least one ready catalog and one ready order replica.")
        }
        // Which replicas are in rotation, as the health checks last saw them.
        var replicas: [String: String] = [:]
        for (name, up) in catalogs.states() + orders.states() { replicas[name.description] = up ? "up" : "down" }
        return FrontReadiness(status: "ready", replicas: replicas)
    }

    func headers(_ answer: CatalogReads.Answer) -> HTTPFields {
        [.xCache: answer.hit ? "HIT" : "MISS", .xServedBy: answer.servedBy]
    }

    func forwarded(_ context: BazarRequestContext, authorization: String? = nil) -> [(String, String)] {
        [("X-Request-ID", context.requestID)] + (authorization.map { [("Authorization", $0)] } ?? [])
    }

    /// Sends a call to a replica in turn and relays its answer, success or contract error.
    /// `write`: to the service's leader first, as far as the front end knows it.
    func relay(
        _ rotation: ReplicaRotation, service: String, context: BazarRequestContext, write: Bool = false,
        _ call: (ReplicaEndpoint, Duration) async throws -> BackendClient.Reply
    ) async throws -> Response {
        let (reply, replica) = try await rotation.call(
            service: service, deadline: settings.requestDeadline, perAttempt: settings.backendTimeout, write: write, call)
        guard reply.isSuccess else { throw BackendAnswer.error(from: reply) }
        var headers: HTTPFields = [.xServedBy: replica.name.description]
        if let version = reply.headers.first(name: "X-Book-Version") { headers[.xBookVersion] = version }
        return JSONResponse.raw(reply.body, status: .init(code: reply.status), headers: headers)
    }

    /// Price and stock changes go to a catalog replica, which hands them to its leader.
    func adminWrite(_ request: Request, context: BazarRequestContext, path: String) async throws -> Response {
        try settings.tokens.requireAdmin(request)
        let body = try await request.collectBody(limit: context.maxUploadSize)
        // A key makes retries on another replica safe: a restock adds its copies once.
        let key = request.headers[.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } ?? RequestIdentifier.make()
        let headers = forwarded(context, authorization: request.headers[.authorization]) + [("Idempotency-Key", key)]
        let method = HTTPMethod(rawValue: request.method.rawValue)
        return try await relay(catalogs, service: "catalog", context: context, write: true) { catalog, timeout in
            try await client.send(method, catalog.url + path, body: body, headers: headers, timeout: timeout)
        }
    }
}

/// The front end's `GET /ready` answer.
struct FrontReadiness: ResponseCodable {
    var status: String
    /// Replica name to "up" or "down".
    var replicas: [String: String]
}
