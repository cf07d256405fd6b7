import HTTPTypes
import Hummingbird
import NIOCore

/// The request context of every Bazar service: Hummingbird's core, the request id that travels
/// with a request through every back-end call, the body limit, and the contract's JSON (strict
/// decoding with the error body on failure; RFC 3339 dates, sorted keys on the way out).
public struct BazarRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String
    /// Where the request came from (a front end's subscription is called back there).
    public let remoteAddress: SocketAddress?
    /// The largest body a route reads (413 beyond): the service's setting, put here by
    /// `RequestLimitsMiddleware`; replication pushes raise it for their own routes.
    public var maxUploadSize: Int

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.requestID = ""
        self.maxUploadSize = ServerSettings.defaultMaxBodyBytes
    }

    public var requestDecoder: BazarRequestDecoder { BazarRequestDecoder() }
    public var responseEncoder: BazarResponseEncoder { BazarResponseEncoder() }
}

/// Reads a request body as the contract's JSON: at most the context's body limit (413), and a
/// body that does not decode is 400 `invalid_body` with the decoder's reason.
public struct BazarRequestDecoder: RequestDecoder {
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        try decode(T.self, from: try await request.collectBody(limit: context.maxUploadSize))
    }

    /// A body already read: a write keeps its bytes to send them on to the leader as they came.
    public func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws -> T {
        try JSONResponse.decodeBody(T.self, from: body)
    }
}

/// Writes a handler's value as the contract's JSON.
public struct BazarResponseEncoder: ResponseEncoder {
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(value)
    }
}

extension HTTPField.Name {
    public static let xRequestID = Self("X-Request-ID")!
    public static let xCache = Self("X-Cache")!
    public static let xServedBy = Self("X-Served-By")!
    public static let idempotencyKey = Self("Idempotency-Key")!
    /// How long the caller waits for this answer, in milliseconds, sent with every call between
    /// services: a replica that forwards the call to its leader waits as long, no less.
    public static let xBazarTimeoutMs = Self("X-Bazar-Timeout-Ms")!
    /// The version of the book an answer shows or a write produced (beside the contract, for
    /// clients and tests that check they never read older than what they wrote).
    public static let xBookVersion = Self("X-Book-Version")!
}
