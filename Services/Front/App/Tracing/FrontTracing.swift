import BazarService
import Logging
import ServiceLifecycle
import Tracing
import W3CTraceContext

/// The front end's tracer: spans in OpenTelemetry's model, W3C trace context on every call, sent in
/// batches over OTLP/HTTP, with OpenTelemetry's own settings (`OTEL_BSP_…`, `OTEL_TRACES_SAMPLER`).
/// Not swift-otel, which the replicas use: its configuration code links all of Foundation, and
/// with it 31 MB of ICU data, into a process that otherwise needs neither (docs/containers.md).
public enum FrontTracing {
    public static let bootstrap: TracerBootstrap = { export, process, logger in
        let settings = try BatchSettings.fromEnvironment()
        let exporter = SpanBatchExporter(
            export: export, process: process, settings: settings, logger: logger)
        let tracer = FrontTracer(sampler: try SpanSampler.fromEnvironment(), exporter: exporter)
        InstrumentationSystem.bootstrap(tracer)
        return exporter
    }
}

/// A span's place in its trace, as the front end keeps it in a `ServiceContext`: its own ids
/// (those of the caller's span, for a context read from a `traceparent`) and its parent's.
struct SpanIdentity: Sendable, Hashable {
    var trace: TraceContext
    var parentSpanID: SpanID?
}

enum SpanIdentityKey: ServiceContextKey {
    typealias Value = SpanIdentity
}

extension ServiceContext {
    var spanIdentity: SpanIdentity? {
        get { self[SpanIdentityKey.self] }
        set { self[SpanIdentityKey.self] = newValue }
    }
}

/// Starts spans (sampled ones record and, once ended, go to the exporter) and carries their
/// context across calls in `traceparent` and `tracestate`.
struct FrontTracer: Tracer {
    let sampler: SpanSampler
    let exporter: SpanBatchExporter

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> FrontSpan {
        var context = context()
        let parent = context.spanIdentity?.trace
        let traceID = parent?.traceID ?? TraceID.random()
        let sampled = sampler.samples(traceID: traceID, parent: parent)
        let identity = SpanIdentity(
            trace: TraceContext(
                traceID: traceID, spanID: SpanID.random(), flags: sampled ? .sampled : [],
                state: parent?.state ?? TraceState()),
            parentSpanID: parent?.spanID)
        context.spanIdentity = identity
        guard sampled else { return FrontSpan(unsampled: context) }
        return FrontSpan(
            operationName, kind: kind, context: context, identity: identity,
            start: instant().nanosecondsSinceEpoch, onEnd: exporter.enqueue)
    }

    func forceFlush() { exporter.flush() }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let trace = context.spanIdentity?.trace else { return }
        injector.inject(trace.traceParentHeaderValue, forKey: "traceparent", into: &carrier)
        if let state = trace.traceStateHeaderValue { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }

    /// A malformed `traceparent` starts a new trace, as W3C trace context asks of a receiver.
    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: "traceparent", from: carrier),
              let trace = try? TraceContext(
                  traceParentHeaderValue: parent, traceStateHeaderValue: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context.spanIdentity = SpanIdentity(trace: trace, parentSpanID: nil)
    }
}
