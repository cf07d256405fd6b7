import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import ServiceLifecycle
import Tracing

/// Where a service sends its spans: an OpenTelemetry collector's OTLP/HTTP endpoint
/// (`BAZAR_OTLP_ENDPOINT`). Without one, no span is made at all.
public struct TraceExport: Sendable, Equatable {
    public enum Encoding: String, Sendable, CaseIterable {
        case protobuf = "http/protobuf"
        case json = "http/json"
    }

    /// The collector's base URL, e.g. `http://127.0.0.1:4318`; spans go to its `/v1/traces`.
    public var endpoint: String
    public var encoding: Encoding

    public init(endpoint: String, encoding: Encoding = .protobuf) {
        self.endpoint = endpoint
        self.encoding = encoding
    }

    /// Where spans are posted, as OpenTelemetry's `OTEL_EXPORTER_OTLP_ENDPOINT` would make it.
    public var tracesURL: String { endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces" }

    static func resolve(endpoint: String?, encoding: String?) throws -> TraceExport? {
        guard let endpoint = Setting.optionalString(endpoint, env: "BAZAR_OTLP_ENDPOINT"), !endpoint.isEmpty else { return nil }
        guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
            throw ConfigurationError("BAZAR_OTLP_ENDPOINT '\(endpoint)' is not an http:// or https:// URL (an OTLP/HTTP collector, e.g. http://127.0.0.1:4318)")
        }
        let text = Setting.string(encoding, env: "BAZAR_OTLP_PROTOCOL", default: Encoding.protobuf.rawValue)
        guard let encoding = Encoding(rawValue: text.lowercased()) else {
            throw ConfigurationError("BAZAR_OTLP_PROTOCOL '\(text)' is not one of \(Encoding.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return TraceExport(endpoint: endpoint, encoding: encoding)
    }
}

/// The process a span comes from, as a collector shows it: OpenTelemetry's `service.name`
/// (`bazar-front`) and `service.instance.id` (`catalog-1`, `front@127.0.0.1:8080`).
public struct TracedProcess: Sendable, Equatable {
    public var service: String
    public var instance: String

    public init(service: String, instance: String) {
        self.service = service
        self.instance = instance
    }
}

/// Makes a process's tracer the process's (`InstrumentationSystem.bootstrap`) and returns the
/// service that sends its spans in batches and flushes them at shutdown. The replicas use
/// swift-otel's (`OTelTracing`); the front end its own small one (`FrontTracing`), because
/// swift-otel links all of Foundation and its ICU data, a third of the front end's image.
public typealias TracerBootstrap = @Sendable (TraceExport, TracedProcess, Logger) throws -> any Service

/// Spans around Bazar's own work (back-end calls, store transactions, replication), each a child
/// of the span of the request it serves. Work that serves no traced request (heartbeats, health
/// checks, elections) makes none: each would be a trace of its own, many a second. With tracing
/// off no request has a span, so all this costs one task-local lookup.
public enum Traces {
    /// Makes OpenTelemetry's tracer the process's (swift-otel, spans only: logs and metrics have
    /// their own ways out) and returns the service that sends spans in batches and flushes them at
    /// shutdown; nil, and nothing bootstrapped, without an export.
    /// Runs `body` in a span named `name`, a child of `parent` (the current request's span by
    /// default) linked to `others`; without a parent, runs it without a span. The name and the
    /// attributes are made only for a span: with tracing off, a back-end call or a transaction
    /// pays for neither.
    public static func span<T>(
        _ name: @autoclosure () -> String, ofKind kind: SpanKind = .internal, in parent: ServiceContext? = ServiceContext.current,
        linking others: [ServiceContext] = [], attributes: @autoclosure () -> SpanAttributes = [:],
        isolation: isolated (any Actor)? = #isolation, _ body: ((any Span)?) async throws -> T
    ) async rethrows -> T {
        guard let parent else { return try await body(nil) }
        return try await withSpan(name(), context: parent, ofKind: kind, isolation: isolation) { span in
            let attributes = attributes()
            if !attributes.isEmpty { span.attributes = attributes }
            for other in others { span.addLink(SpanLink(context: other, attributes: [:])) }
            return try await body(span)
        }
    }

    /// The current span's `traceparent` (W3C trace context) in `headers`, for the service called.
    static func inject(into headers: inout HTTPHeaders) {
        guard let context = ServiceContext.current else { return }
        InstrumentationSystem.instrument.inject(context, into: &headers, using: HeadersInjector())
    }

    struct HeadersInjector: Injector {
        func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
            headers.replaceOrAdd(name: key, value: value)
        }
    }

    /// A server span for each request that belongs to a trace, when spans are sent anywhere.
    static func add(to router: Router<BazarRequestContext>, export: TraceExport?, untraced: KnownPaths) {
        guard export != nil else { return }
        router.add(middleware: RequestSpans(untraced: untraced))
    }
}

/// Hummingbird's server span, with the request id among its attributes, for a request that
/// continues its caller's trace (`traceparent`) or starts one: a request of the public or admin
/// API. Health checks, scrapes, status polls and the replicas' own traffic (heartbeats, votes,
/// subscriptions) start none: each would be a trace of its own, several a second.
struct RequestSpans: RouterMiddleware {
    typealias Context = BazarRequestContext
    let spans = TracingMiddleware<BazarRequestContext>(recordingHeaders: [.xRequestID])
    /// The routes whose tables start no trace (`RouteTable.startsTraces`).
    let untraced: KnownPaths

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.traceparent] != nil || startsTrace(request) else { return try await next(request, context) }
        return try await spans.handle(request, context: context, next: next)
    }

    func startsTrace(_ request: Request) -> Bool {
        !(untraced.allowedMethods(request.uri.path)?.contains(request.method.rawValue) ?? false)
    }
}

extension HTTPField.Name {
    /// W3C trace context: the caller's trace and span.
    static let traceparent = Self("traceparent")!
}
