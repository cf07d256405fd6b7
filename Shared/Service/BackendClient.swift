import AsyncHTTPClient
import BazarModels
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Tracing

/// The one HTTP client a service uses to talk to other services (AsyncHTTPClient underneath),
/// with a connection pool sized for fan-out rather than AsyncHTTPClient's small default.
public struct BackendClient: Service {
    public let http: HTTPClient
    private let owned: Bool

    /// A client on AsyncHTTPClient's process-wide pool, never shut down: for tools and tests.
    public static let shared = BackendClient(http: .shared, owned: false)

    init(http: HTTPClient, owned: Bool) {
        self.http = http
        self.owned = owned
    }

    /// How long an unused connection stays in the pool: well inside a service's idle timeout
    /// (`BAZAR_IDLE_TIMEOUT_MS`, 30 s by default), so that a server never closes a connection
    /// at the moment this pool hands it to a request.
    public static let poolIdleTimeout = Duration.seconds(5)

    public init(connectionsPerHost: Int = 64, connectTimeout: Duration = .milliseconds(500)) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .milliseconds(Self.poolIdleTimeout.milliseconds), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        configuration.timeout = .init(connect: .milliseconds(connectTimeout.milliseconds))
        // A connection that cannot be made fails its requests at once, and the next request tries
        // again at once. AsyncHTTPClient's default instead backs off 100 ms × 1.25 per failure in a
        // row, so a peer that was down for a second or two (a restart, under load) stayed
        // unreachable for seconds after it was back: every caller here retries on its own terms
        // (a rotation moves on to another replica, the notifier retries within its lease).
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        // Spans are made in `send`, only for calls that serve a traced request: AsyncHTTPClient's
        // own would make a trace of every heartbeat and health check.
        configuration.tracing.tracer = nil
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.owned = true
    }

    /// An answer from another service, fully read.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer

        public var isSuccess: Bool { (200..<300).contains(status) }

        public func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONResponse.decode(T.self, from: body)
        }
    }

    /// The request could not be made or got no answer in time (as opposed to an error answer).
    public struct Unreachable: Error, CustomStringConvertible {
        public var url: String
        public var reason: String
        public var description: String { "no answer from \(url): \(reason)" }

        public init(url: String, reason: String) {
            self.url = url
            self.reason = reason
        }
    }

    public func send(
        _ method: HTTPMethod, _ url: String, body: ByteBuffer? = nil,
        headers: [(String, String)] = [], timeout: Duration
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.replaceOrAdd(name: HTTPField.Name.xBazarTimeoutMs.rawName, value: String(timeout.milliseconds))
        if let body {
            if !request.headers.contains(name: "Content-Type") {
                request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            }
            request.body = .bytes(body)
        }
        return try await Traces.span("\(method.rawValue) \(Self.path(of: url))", ofKind: .client, attributes: ["url.full": .string(url)]) { span in
            Traces.inject(into: &request.headers)
            do {
                let response = try await http.execute(request, timeout: .milliseconds(timeout.milliseconds))
                let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
                span?.attributes["http.response.status_code"] = Int(response.status.code)
                if response.status.code >= 500 { span?.setStatus(.init(code: .error)) }
                return Reply(status: Int(response.status.code), headers: response.headers, body: body)
            } catch let error as CancellationError {
                throw error
            } catch {
                throw Unreachable(url: url, reason: "\(error)")
            }
        }
    }

    /// `/books/3` of `http://host:port/books/3?x=1`: a span's name.
    static func path(of url: String) -> Substring {
        // Split by hand: `range(of:)` is full Foundation's, which the front end does not link.
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        let path = parts.count == 4 && parts[0].hasSuffix(":") && parts[1].isEmpty ? "/" + parts[3] : "/"
        return path[...].prefix { $0 != "?" }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        if owned { try await http.shutdown() }
    }
}

extension Duration {
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
