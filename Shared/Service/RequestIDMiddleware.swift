import Hummingbird
import Synchronization

/// The id of the client request being served (`X-Request-ID`), for work that outlives its
/// handler's context: a write that a replica pushes to its followers names the request in their logs.
public enum ClientRequest {
    @TaskLocal public static var id: String?
}

/// Gives every request its `X-Request-ID` (the client's, or a new one), for every back-end call
/// it makes and its log lines, and echoes it on the answer, errors included (it runs outside
/// `ErrorBodyMiddleware`).
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = BazarRequestContext

    /// Whether a request id made here is written into the request too, for the server span to
    /// record (with tracing on).
    let addsMadeIDToRequest: Bool

    public init(addsMadeIDToRequest: Bool = false) { self.addsMadeIDToRequest = addsMadeIDToRequest }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let given = request.headers[.xRequestID].flatMap { $0.isEmpty || $0.count > 200 ? nil : $0 }
        let requestID = given ?? RequestIdentifier.make()
        if given == nil, addsMadeIDToRequest {
            var head = request.head
            head.headerFields[.xRequestID] = requestID
            request = Request(head: head, body: request.body)
        }
        context.requestID = requestID
        // Every line logged about this request carries it (rendered only when a line is written).
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response = try await ClientRequest.$id.withValue(requestID) { try await next(request, context) }
        response.headers[.xRequestID] = requestID
        return response
    }
}

/// Request ids: unique, short, and safe in a header. A random prefix drawn once per process and
/// a counter: unique across restarts (a purchase without an `Idempotency-Key` gets its request id
/// from here, and a repeat must not match another's), without two random draws (system calls)
/// per request on the hot path.
public enum RequestIdentifier {
    private static let prefix = String(UInt64.random(in: .min ... .max), radix: 36)
    private static let counter = Atomic<UInt64>(0)

    public static func make() -> String {
        prefix + "-" + String(counter.add(1, ordering: .relaxed).newValue, radix: 36)
    }
}
