import HTTPTypes
import Hummingbird

/// The request context of every Bazar service: Hummingbird's core plus the request id that
/// travels with a request through every back-end call.
public struct BazarRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
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
