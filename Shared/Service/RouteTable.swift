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

/// A router that records its paths in `known`.
public struct RouteTable<Context: RequestContext> {
    public let router: Router<Context>
    public let known: KnownPaths

    public init(router: Router<Context>, known: KnownPaths) {
        self.router = router
        self.known = known
    }

    public func on(
        _ method: HTTPRequest.Method, _ path: String,
        use handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) {
        known.add(path, method: method)
        router.on(RouterPath(path), method: method, use: handler)
    }

    public func get(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        on(.get, path, use: handler)
    }

    public func post(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        on(.post, path, use: handler)
    }

    public func patch(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        on(.patch, path, use: handler)
    }

    public func delete(_ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        on(.delete, path, use: handler)
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
