import HTTPTypes
import Hummingbird
import Synchronization

/// The paths a service answers and their methods, remembered as routes are added, so that a
/// request for a known path with the wrong method gets 405 with an `Allow` header, not 404.
public final class KnownPaths: Sendable {
    private let patterns = Mutex<[(segments: [Substring], methods: [String])]>([])

    public init() {}

    func add(_ path: String, method: HTTPRequest.Method) {
        let segments = path.split(separator: "/")
        patterns.withLock { patterns in
            if let index = patterns.firstIndex(where: { $0.segments == segments }) {
                patterns[index].methods.append(method.rawValue)
            } else {
                patterns.append((segments, [method.rawValue]))
            }
        }
    }

    /// The methods a path answers (HEAD with GET, as the router serves it), or nil for an unknown path.
    public func allowedMethods(_ path: String) -> [String]? {
        let segments = path.split(separator: "/")
        let methods = patterns.withLock { patterns in
            patterns.filter { pattern in
                pattern.segments.count == segments.count
                    && zip(pattern.segments, segments).allSatisfy { $0.first == ":" || $0 == $1 }
            }.flatMap(\.methods)
        }
        guard !methods.isEmpty else { return nil }
        return Array(Set(methods + (methods.contains("GET") ? ["HEAD"] : []))).sorted()
    }
}

/// A controller's routes: a Hummingbird `RouteCollection` that also remembers its paths and
/// methods, so that the router it joins can answer a known path's wrong method with 405.
public final class RouteTable<Context: RequestContext> {
    public let collection = RouteCollection(context: Context.self)
    public private(set) var endpoints: [(path: String, method: HTTPRequest.Method)] = []
    /// Whether a request here starts a trace of its own (with tracing on). False for the replicas'
    /// own traffic and the operational routes: they only continue a caller's trace, or each
    /// heartbeat, health check and scrape would be a trace, several a second.
    public let startsTraces: Bool

    public init(startsTraces: Bool = true) { self.startsTraces = startsTraces }

    @discardableResult
    public func on(
        _ method: HTTPRequest.Method, _ path: String,
        use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) -> Self {
        endpoints.append((path, method))
        collection.on(RouterPath(path), method: method, use: handler)
        return self
    }

    @discardableResult
    public func get(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator) -> Self {
        on(.get, path, use: handler)
    }

    @discardableResult
    public func post(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator) -> Self {
        on(.post, path, use: handler)
    }

    @discardableResult
    public func patch(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator) -> Self {
        on(.patch, path, use: handler)
    }

    @discardableResult
    public func delete(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator) -> Self {
        on(.delete, path, use: handler)
    }

    /// Middleware for the routes added after it (Hummingbird's rule for route collections).
    @discardableResult
    public func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        collection.add(middleware: middleware)
        return self
    }
}

/// A service's router and the paths its route tables brought.
public struct ServiceRouter<Context: RequestContext> {
    public let router: Router<Context>
    let known: KnownPaths
    /// The routes of tables that start no trace (`RouteTable.startsTraces`).
    let untraced: KnownPaths

    public func add(_ tables: RouteTable<Context>...) {
        for table in tables {
            router.addRoutes(table.collection)
            for endpoint in table.endpoints {
                known.add(endpoint.path, method: endpoint.method)
                if !table.startsTraces { untraced.add(endpoint.path, method: endpoint.method) }
            }
        }
    }
}

/// Lets the routes added after it read bodies up to `bytes` (the service's limit is the default).
public struct BodyLimit: RouterMiddleware {
    public typealias Context = BazarRequestContext
    let bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxUploadSize = bytes
        return try await next(request, context)
    }
}

extension Request {
    /// The `{name}` path parameter as a positive integer id, or 400 `invalid_id`.
    public func positiveID(_ name: String, context: some RequestContext) throws -> Int {
        let text = context.parameters.get(name) ?? ""
        guard let id = Int(text), id > 0 else { throw APIError.invalidID(text) }
        return id
    }
}
