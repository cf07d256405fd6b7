#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BazarService
import Tracing
import W3CTraceContext

/// An OTLP `ExportTraceServiceRequest` of the front end's spans, in either of OTLP/HTTP's
/// encodings: protobuf (opentelemetry-proto's trace.proto, field numbers below) or JSON (the same
/// message, camel-case names, ids in hex, 64-bit integers as strings).
enum OTLPTraceEncoding {
    static let scope = "bazar-front"

    static func protobuf(_ spans: [FinishedSpan], from process: TracedProcess) -> [UInt8] {
        var request = ProtobufWriter()
        request.message(1) { resourceSpans in  // ExportTraceServiceRequest.resource_spans
            resourceSpans.message(1) { resource in  // ResourceSpans.resource
                resource.attribute(1, "service.name", .string(process.service))  // Resource.attributes
                resource.attribute(1, "service.instance.id", .string(process.instance))
            }
            resourceSpans.message(2) { scopeSpans in  // ResourceSpans.scope_spans
                scopeSpans.message(1) { $0.string(1, scope) }  // ScopeSpans.scope, InstrumentationScope.name
                for span in spans { scopeSpans.message(2) { $0.span(span) } }  // ScopeSpans.spans
            }
        }
        return request.bytes
    }

    /// Throws for what JSON cannot hold (a NaN or infinite attribute).
    static func json(_ spans: [FinishedSpan], from process: TracedProcess) throws -> [UInt8] {
        let request = JSONRequest(resourceSpans: [.init(
            resource: .init(attributes: [
                .init("service.name", .string(process.service)), .init("service.instance.id", .string(process.instance)),
            ]),
            scopeSpans: [.init(scope: .init(name: scope), spans: spans.map(JSONRequest.Span.init))])])
        return Array(try JSONEncoder().encode(request))
    }
}

/// Protocol buffers' wire format, as much of it as OTLP's trace messages need.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func key(_ field: Int, wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func uint(_ field: Int, _ value: UInt64) {
        key(field, wireType: 0)
        varint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, wireType: 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes(_ field: Int, _ value: some Collection<UInt8>) {
        key(field, wireType: 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, value.utf8) }

    /// A nested message, written apart to learn its length.
    mutating func message(_ field: Int, _ write: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        write(&nested)
        bytes(field, nested.bytes)
    }

    /// A `KeyValue`: key 1, `AnyValue` 2.
    mutating func attribute(_ field: Int, _ key: String, _ value: SpanAttribute) {
        message(field) { pair in
            pair.string(1, key)
            pair.message(2) { $0.anyValue(value) }
        }
    }

    /// An `AnyValue`: string 1, bool 2, int 3, double 4, array 5 (`ArrayValue.values` 1).
    mutating func anyValue(_ value: SpanAttribute) {
        func array<T>(_ values: [T], _ element: (T) -> SpanAttribute) {
            message(5) { list in
                for value in values { list.message(1) { $0.anyValue(element(value)) } }
            }
        }
        switch value {
        case .string(let text): string(1, text)
        case .bool(let flag): uint(2, flag ? 1 : 0)
        case .int32(let number): uint(3, UInt64(bitPattern: Int64(number)))
        case .int64(let number): uint(3, UInt64(bitPattern: number))
        case .double(let number):
            key(4, wireType: 1)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .stringArray(let values): array(values) { .string($0) }
        case .boolArray(let values): array(values) { .bool($0) }
        case .int32Array(let values): array(values) { .int32($0) }
        case .int64Array(let values): array(values) { .int64($0) }
        case .doubleArray(let values): array(values) { .double($0) }
        case .stringConvertibleArray(let values): array(values) { .string($0.description) }
        default: string(1, "\(value)")
        }
    }

    /// A `Span`: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6,
    /// start_time_unix_nano 7, end_time_unix_nano 8, attributes 9, events 11, links 13, status 15.
    mutating func span(_ span: FinishedSpan) {
        let trace = span.identity.trace
        bytes(1, trace.traceID.byteArray)
        bytes(2, trace.spanID.byteArray)
        if let state = trace.traceStateHeaderValue { string(3, state) }
        if let parent = span.identity.parentSpanID { bytes(4, parent.byteArray) }
        string(5, span.name)
        uint(6, UInt64(span.kind.otlpKind))
        fixed64(7, span.start)
        fixed64(8, span.end)
        span.attributes.forEach { key, value in attribute(9, key, value) }
        for event in span.events {
            message(11) { written in  // Event: time_unix_nano 1, name 2, attributes 3
                written.fixed64(1, event.nanosecondsSinceEpoch)
                written.string(2, event.name)
                event.attributes.forEach { key, value in written.attribute(3, key, value) }
            }
        }
        for link in span.links {
            message(13) { written in  // Link: trace_id 1, span_id 2, trace_state 3, attributes 4
                written.bytes(1, link.trace.traceID.byteArray)
                written.bytes(2, link.trace.spanID.byteArray)
                link.attributes.forEach { key, value in written.attribute(4, key, value) }
            }
        }
        if let status = span.status {
            message(15) { written in  // Status: message 2, code 3
                if let message = status.message { written.string(2, message) }
                written.uint(3, UInt64(status.code.otlpCode))
            }
        }
    }
}

/// The same request in OTLP's JSON encoding.
struct JSONRequest: Encodable {
    struct ResourceSpans: Encodable {
        var resource: Resource
        var scopeSpans: [ScopeSpans]
    }
    struct Resource: Encodable { var attributes: [KeyValue] }
    struct ScopeSpans: Encodable {
        var scope: Scope
        var spans: [Span]
    }
    struct Scope: Encodable { var name: String }
    struct Span: Encodable {
        var traceId, spanId: String
        var traceState, parentSpanId: String?
        var name: String
        var kind: Int
        var startTimeUnixNano, endTimeUnixNano: String
        var attributes: [KeyValue]
        var events: [Event]
        var links: [Link]
        var status: Status?

        init(_ span: FinishedSpan) {
            let trace = span.identity.trace
            traceId = trace.traceID.description
            spanId = trace.spanID.description
            traceState = trace.traceStateHeaderValue
            parentSpanId = span.identity.parentSpanID?.description
            name = span.name
            kind = span.kind.otlpKind
            startTimeUnixNano = String(span.start)
            endTimeUnixNano = String(span.end)
            attributes = KeyValue.all(span.attributes)
            events = span.events.map { Event(timeUnixNano: String($0.nanosecondsSinceEpoch), name: $0.name, attributes: KeyValue.all($0.attributes)) }
            links = span.links.map { Link(traceId: $0.trace.traceID.description, spanId: $0.trace.spanID.description, attributes: KeyValue.all($0.attributes)) }
            status = span.status.map { Status(code: $0.code.otlpCode, message: $0.message) }
        }
    }
    struct Event: Encodable {
        var timeUnixNano, name: String
        var attributes: [KeyValue]
    }
    struct Link: Encodable {
        var traceId, spanId: String
        var attributes: [KeyValue]
    }
    struct Status: Encodable {
        var code: Int
        var message: String?
    }
    struct KeyValue: Encodable {
        var key: String
        var value: AnyValue

        init(_ key: String, _ value: SpanAttribute) {
            self.key = key
            self.value = AnyValue(value)
        }

        static func all(_ attributes: SpanAttributes) -> [KeyValue] {
            var pairs: [KeyValue] = []
            attributes.forEach { key, value in pairs.append(KeyValue(key, value)) }
            return pairs
        }
    }
    /// One of `stringValue`, `boolValue`, `intValue` (a string), `doubleValue`, `arrayValue`.
    struct AnyValue: Encodable {
        var stringValue: String?
        var boolValue: Bool?
        var intValue: String?
        var doubleValue: Double?
        var arrayValue: ArrayValue?

        init(_ attribute: SpanAttribute) {
            switch attribute {
            case .string(let text): stringValue = text
            case .bool(let flag): boolValue = flag
            case .int32(let number): intValue = String(number)
            case .int64(let number): intValue = String(number)
            case .double(let number): doubleValue = number
            case .stringArray(let values): arrayValue = ArrayValue(values.map { .string($0) })
            case .boolArray(let values): arrayValue = ArrayValue(values.map { .bool($0) })
            case .int32Array(let values): arrayValue = ArrayValue(values.map { .int32($0) })
            case .int64Array(let values): arrayValue = ArrayValue(values.map { .int64($0) })
            case .doubleArray(let values): arrayValue = ArrayValue(values.map { .double($0) })
            case .stringConvertibleArray(let values): arrayValue = ArrayValue(values.map { .string($0.description) })
            default: stringValue = "\(attribute)"
            }
        }
    }
    struct ArrayValue: Encodable {
        var values: [AnyValue]
        init(_ attributes: [SpanAttribute]) { values = attributes.map(AnyValue.init) }
    }

    var resourceSpans: [ResourceSpans]
}

extension SpanKind {
    /// OTLP's `SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    var otlpKind: Int {
        switch self {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }
}

extension SpanStatus.Code {
    /// OTLP's `Status.StatusCode`: 1 ok, 2 error.
    var otlpCode: Int {
        switch self {
        case .ok: 1
        case .error: 2
        }
    }
}

extension TraceID {
    var byteArray: [UInt8] { withSpan { span in span.indices.map { span[$0] } } }
}

extension SpanID {
    var byteArray: [UInt8] { withSpan { span in span.indices.map { span[$0] } } }
}
