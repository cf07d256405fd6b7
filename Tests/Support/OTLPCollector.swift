import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// An OpenTelemetry collector's OTLP/HTTP traces endpoint (`POST /v1/traces`, protobuf or JSON
/// encoding, by the request's content type) on a free loopback port, keeping every span it
/// receives: what the services under test send their spans to.
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
            let isJSON = request.headers[.contentType]?.hasPrefix("application/json") ?? false
            await collector.receive(Data(buffer: body), isJSON: isJSON)
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

    /// Export requests whose body was not OTLP in the encoding its content type named.
    public func undecodableRequests() -> Int { undecodable }

    /// The encodings the requests came in, by content type, with how many of each.
    public func contentTypes() -> [String: Int] { encodings }
    private var encodings: [String: Int] = [:]

    private func receive(_ body: Data, isJSON: Bool) {
        encodings[isJSON ? "application/json" : "application/x-protobuf", default: 0] += 1
        let decoded = isJSON ? try? JSONDecoder().decode(ExportRequest.self, from: body) : try? ExportRequest(protobuf: Array(body)[...])
        guard let request = decoded else {
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
                        service: service, instance: instance, traceID: Self.hexID(span.traceId), spanID: Self.hexID(span.spanId),
                        parentSpanID: span.parentSpanId.flatMap { $0.isEmpty ? nil : Self.hexID($0) }, name: span.name,
                        kind: ReceivedSpan.Kind(rawValue: span.kind ?? 0) ?? .unspecified,
                        attributes: Dictionary((span.attributes ?? []).map { ($0.key, $0.value.text) }) { first, _ in first },
                        links: (span.links ?? []).map { Self.hexID($0.traceId) }))
                }
            }
        }
    }

    /// An id as OTLP's JSON encoding has it, in hex (the front end's), or in base64, as protobuf's
    /// own JSON mapping writes bytes and swift-otel 1.6.0 sends them (the replicas'): in hex.
    static func hexID(_ text: String) -> String {
        guard text.count != 32, text.count != 16, let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
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
            init() {}
            var text: String { stringValue ?? intValue ?? boolValue.map { "\($0)" } ?? doubleValue.map { "\($0)" } ?? "" }
        }
        var resourceSpans: [ResourceSpans]
    }
}

/// OTLP's protobuf encoding, read into the same request: opentelemetry-proto's field numbers
/// (ExportTraceServiceRequest.resource_spans 1; ResourceSpans.resource 1, scope_spans 2;
/// Resource.attributes 1; ScopeSpans.spans 2; Span.trace_id 1, span_id 2, parent_span_id 4,
/// name 5, kind 6, attributes 9, links 13; KeyValue.key 1, value 2; AnyValue.string 1, bool 2,
/// int 3, double 4; Link.trace_id 1).
extension OTLPCollector.ExportRequest {
    init(protobuf bytes: ArraySlice<UInt8>) throws {
        resourceSpans = try ProtobufField.all(in: bytes).filter { $0.number == 1 }.map { resourceSpans in
            let fields = try ProtobufField.all(in: resourceSpans.contents)
            return ResourceSpans(
                resource: try fields.first { $0.number == 1 }.map { ResourceSpans.Resource(attributes: try Self.keyValues(1, in: $0.contents)) },
                scopeSpans: try fields.filter { $0.number == 2 }.map { scope in
                    ResourceSpans.ScopeSpans(spans: try ProtobufField.all(in: scope.contents).filter { $0.number == 2 }.map { try Self.span($0.contents) })
                })
        }
    }

    static func span(_ bytes: ArraySlice<UInt8>) throws -> Span {
        let fields = try ProtobufField.all(in: bytes)
        func hex(_ number: Int) -> String? { fields.first { $0.number == number }.map { $0.contents.map { String(format: "%02x", $0) }.joined() } }
        return Span(
            traceId: hex(1) ?? "", spanId: hex(2) ?? "", parentSpanId: hex(4),
            name: fields.first { $0.number == 5 }.map { String(decoding: $0.contents, as: UTF8.self) } ?? "",
            kind: fields.first { $0.number == 6 }.map { Int($0.value) },
            attributes: try keyValues(9, in: bytes),
            links: try fields.filter { $0.number == 13 }.map { link in
                let linkFields = try ProtobufField.all(in: link.contents)
                return Span.Link(traceId: linkFields.first { $0.number == 1 }.map { $0.contents.map { String(format: "%02x", $0) }.joined() } ?? "")
            })
    }

    static func keyValues(_ number: Int, in bytes: ArraySlice<UInt8>) throws -> [KeyValue] {
        try ProtobufField.all(in: bytes).filter { $0.number == number }.map { pair in
            let fields = try ProtobufField.all(in: pair.contents)
            let key = fields.first { $0.number == 1 }.map { String(decoding: $0.contents, as: UTF8.self) } ?? ""
            var value = AnyValue()
            for field in try ProtobufField.all(in: fields.first { $0.number == 2 }?.contents ?? []) {
                switch field.number {
                case 1: value.stringValue = String(decoding: field.contents, as: UTF8.self)
                case 2: value.boolValue = field.value != 0
                case 3: value.intValue = String(Int64(bitPattern: field.value))
                case 4: value.doubleValue = Double(bitPattern: field.value)
                default: break
                }
            }
            return KeyValue(key: key, value: value)
        }
    }
}

/// One field of a protocol buffers message: its number, and its value (a varint or a fixed
/// number) or its contents (a length-delimited field: bytes, a string or a nested message).
struct ProtobufField {
    struct Malformed: Error {}
    var number: Int
    var value: UInt64 = 0
    var contents: ArraySlice<UInt8> = []

    static func all(in bytes: ArraySlice<UInt8>) throws -> [ProtobufField] {
        var fields: [ProtobufField] = []
        var index = bytes.startIndex
        func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex, shift < 64 else { throw Malformed() }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        func fixed(_ count: Int) throws -> UInt64 {
            guard bytes.endIndex - index >= count else { throw Malformed() }
            defer { index += count }
            return bytes[index..<index + count].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        while index < bytes.endIndex {
            let key = try varint()
            var field = ProtobufField(number: Int(key >> 3))
            switch key & 7 {
            case 0: field.value = try varint()
            case 1: field.value = try fixed(8)
            case 5: field.value = try fixed(4)
            case 2:
                let count = Int(try varint())
                guard bytes.endIndex - index >= count else { throw Malformed() }
                field.contents = bytes[index..<index + count]
                index += count
            default: throw Malformed()
            }
            fields.append(field)
        }
        return fields
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
