import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Refuses, before any route runs, what no route of Bazar takes: a request target longer than
/// the limit (414), and a body declared as something other than JSON (415). A body without a
/// Content-Type is read as JSON, so `curl --data` with its form type is refused, not misread.
/// Puts the body limit in the request context, where the request decoder finds it.
public struct RequestLimitsMiddleware: RouterMiddleware {
    public typealias Context = BazarRequestContext
    let maxURIBytes: Int
    let maxBodyBytes: Int

    public init(maxURIBytes: Int, maxBodyBytes: Int) {
        self.maxURIBytes = maxURIBytes
        self.maxBodyBytes = maxBodyBytes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.string.utf8.count <= maxURIBytes else {
            throw APIError(.uriTooLong, "The path and query are longer than the limit of \(maxURIBytes) bytes.")
        }
        if Self.carriesBody(request), let type = request.headers[.contentType], !Self.isJSON(type) {
            throw APIError(.unsupportedMediaType, "The body must be JSON (Content-Type: application/json), not \(type.prefix(100)).")
        }
        var context = context
        context.maxUploadSize = maxBodyBytes
        return try await next(request, context)
    }

    static func carriesBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding] != nil
    }

    /// `application/json`, with parameters (`; charset=utf-8`) or not, and `application/*+json`.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}

/// Closes a connection that sends no complete request head within `limit` of opening or of its
/// last answer. Hummingbird's idle timeout closes a silent connection; this one closes a client
/// that trickles its headers a byte at a time (slowloris), which is never silent for long.
final class RequestHeadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limit: TimeAmount
    private var timer: Scheduled<Void>?
    /// Requests whose head arrived and whose answer has not ended (pipelined ones included).
    private var open = 0

    init(limit: TimeAmount) { self.limit = limit }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            open += 1
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            open -= 1
            if open == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
    }
}
