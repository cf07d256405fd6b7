import Synchronization
import Tracing
import W3CTraceContext

/// One span of the front end's: a recording one collects its name, attributes, events, links and
/// status until it ends, then goes to the exporter once; an unsampled one only carries its
/// context (so that the calls it makes pass on "not sampled") and records nothing.
final class FrontSpan: Span {
    let context: ServiceContext
    /// What the span has recorded so far; nil for an unsampled span, and once it has ended.
    private let recording: Mutex<FinishedSpan?>
    private let onEnd: @Sendable (FinishedSpan) -> Void

    init(unsampled context: ServiceContext) {
        self.context = context
        recording = Mutex(nil)
        onEnd = { _ in }
    }

    init(
        _ name: String, kind: SpanKind, context: ServiceContext, identity: SpanIdentity, start: UInt64,
        onEnd: @escaping @Sendable (FinishedSpan) -> Void
    ) {
        self.context = context
        recording = Mutex(FinishedSpan(identity: identity, name: name, kind: kind, start: start))
        self.onEnd = onEnd
    }

    var isRecording: Bool { recording.withLock { $0 != nil } }

    var operationName: String {
        get { recording.withLock { $0?.name } ?? "" }
        set { update { $0.name = newValue } }
    }

    var attributes: SpanAttributes {
        get { recording.withLock { $0?.attributes } ?? [:] }
        set { update { $0.attributes = newValue } }
    }

    func setStatus(_ status: SpanStatus) {
        // OpenTelemetry: an `ok` status is final.
        update { span in
            if span.status?.code != .ok { span.status = status }
        }
    }

    func addEvent(_ event: SpanEvent) { update { $0.events.append(event) } }

    func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        guard isRecording else { return }
        var attributes = attributes
        attributes["exception.type"] = "\(type(of: error))"
        attributes["exception.message"] = "\(error)"
        let event = SpanEvent(name: "exception", at: instant(), attributes: attributes)
        update { $0.events.append(event) }
    }

    func addLink(_ link: SpanLink) {
        guard let trace = link.context.spanIdentity?.trace else { return }
        update { $0.links.append(FinishedSpan.Link(trace: trace, attributes: link.attributes)) }
    }

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard isRecording else { return }
        let end = instant().nanosecondsSinceEpoch
        let finished: FinishedSpan? = recording.withLock { span in
            defer { span = nil }
            span?.end = end
            return span
        }
        if let finished { onEnd(finished) }
    }

    /// Changes a recording span that has not ended; an ended span is final.
    private func update(_ change: (inout FinishedSpan) -> Void) {
        recording.withLock { span in
            guard span != nil else { return }
            change(&span!)
        }
    }
}

/// What an ended span sends: OpenTelemetry's span data, as OTLP carries it.
struct FinishedSpan: Sendable {
    struct Link: Sendable {
        var trace: TraceContext
        var attributes: SpanAttributes
    }

    var identity: SpanIdentity
    var name: String
    var kind: SpanKind
    /// Nanoseconds since the Unix epoch.
    var start: UInt64
    var end: UInt64 = 0
    var attributes: SpanAttributes = [:]
    var events: [SpanEvent] = []
    var links: [Link] = []
    var status: SpanStatus?
}
