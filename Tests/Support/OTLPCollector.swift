import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// An OpenTelemetry collector's OTLP/HTTP traces endpoint (`POST /v1/traces`, JSON encoding) on a
/// free loopback port, keeping every span it receives: what the services under test send their
/// spans to.
public actor OTLPCollector {
    public nonisolated let url: String
    private var spans: [ReceivedSpan] = []
    private var undecodable = 0

    init(port: Int) { url = "http://127.0.0.1:\(port)" }

    /// Runs a collector for the duration of `body`.
    public static func with<T: Sendable>(_ body: @Sendable (OTLPCollector) async throws -> T) async throws -> T {
        let port = FreePort.next()
        let collector = OTLPCollector(port: port)
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 * 1024 * 1024)
            await collector.receive(Data(buffer: body))
            // An empty ExportTraceServiceResponse: every span accepted.
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let (running, started) = AsyncStream.makeStream(of: Void.self)
        var logger = Logger(label: "otlp-collector")
        logger.logLevel = .warning
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "otlp-collector"),
            onServerRunning: { _ in started.yield() }, logger: logger)
        let server = ServiceGroup(configuration: .init(services: [application], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { started.finish() }
                try await server.run()
            }
            var isRunning = false
            for await _ in running {
                isRunning = true
                break
            }
            guard isRunning else {
                try await tasks.next()
                throw CancellationError()
            }
            do {
                let result = try await body(collector)
                await server.triggerGracefulShutdown()
                return result
            } catch {
                await server.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// Every span received so far.
    public func received() -> [ReceivedSpan] { spans }

    /// Export requests whose body was not OTLP JSON.
    public func undecodableRequests() -> Int { undecodable }

    private func receive(_ body: Data) {
        guard let request = try? JSONDecoder().decode(ExportRequest.self, from: body) else {
            undecodable += 1
            return
        }
        for resourceSpans in request.resourceSpans {
            let resource = resourceSpans.resource?.attributes ?? []
            let service = resource.first { $0.key == "service.name" }?.value.text ?? ""
            let instance = resource.first { $0.key == "service.instance.id" }?.value.text ?? ""
            for scope in resourceSpans.scopeSpans ?? [] {
                for span in scope.spans ?? [] {
                    spans.append(ReceivedSpan(
                        service: service, instance: instance, traceID: span.traceId, spanID: span.spanId,
                        parentSpanID: span.parentSpanId.flatMap { $0.isEmpty ? nil : $0 }, name: span.name,
                        kind: ReceivedSpan.Kind(rawValue: span.kind ?? 0) ?? .unspecified,
                        attributes: Dictionary((span.attributes ?? []).map { ($0.key, $0.value.text) }) { first, _ in first },
                        links: (span.links ?? []).map(\.traceId)))
                }
            }
        }
    }

    // OTLP's JSON encoding (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
    // camel-case field names, enums as numbers, 64-bit integers as strings.
    struct ExportRequest: Decodable {
        struct ResourceSpans: Decodable {
            struct Resource: Decodable { var attributes: [KeyValue]? }
            struct ScopeSpans: Decodable { var spans: [Span]? }
            var resource: Resource?
            var scopeSpans: [ScopeSpans]?
        }
        struct Span: Decodable {
            struct Link: Decodable { var traceId: String }
            var traceId: String
            var spanId: String
            var parentSpanId: String?
            var name: String
            var kind: Int?
            var attributes: [KeyValue]?
            var links: [Link]?
        }
        struct KeyValue: Decodable {
            var key: String
            var value: AnyValue
        }
        struct AnyValue: Decodable {
            var stringValue: String?
            var intValue: String?
            var boolValue: Bool?
            var doubleValue: Double?
            var text: String { stringValue ?? intValue ?? boolValue.map { "\($0)" } ?? doubleValue.map { "\($0)" } ?? "" }
        }
        var resourceSpans: [ResourceSpans]
    }
}

/// One span as a collector sees it.
public struct ReceivedSpan: Sendable {
    public enum Kind: Int, Sendable { case unspecified, `internal`, server, client, producer, consumer }
    /// `service.name` of the process that made it (`bazar-front`), and its `service.instance.id`.
    public var service: String
    public var instance: String
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    public var name: String
    public var kind: Kind
    public var attributes: [String: String]
    /// The traces this span links to.
    public var links: [String]
}
