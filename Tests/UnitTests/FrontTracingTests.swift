@testable import FrontService
import BazarService
import Logging
import Testing
import Tracing
import W3CTraceContext

/// The front end's own tracer: which traces it records, and the trace context it reads from a
/// caller and passes on. (That its spans reach a collector in both encodings, read beside
/// swift-otel's, is `TracingTests`.)
@Suite("Front-end tracer")
struct FrontTracingTests {
    struct Headers: Extractor, Injector {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    static func tracer(_ sampler: SpanSampler) -> FrontTracer {
        let exporter = SpanBatchExporter(
            export: TraceExport(endpoint: "http://127.0.0.1:9"), process: TracedProcess(service: "bazar-front", instance: "test"),
            settings: BatchSettings(), logger: Logger(label: "test"))
        return FrontTracer(sampler: sampler, exporter: exporter)
    }

    @Test("every trace by default; a sampler and its ratio from OpenTelemetry's names, anything else refused with the variable's name")
    func samplerSettings() throws {
        #expect(try SpanSampler.resolve(nil, argument: nil) == SpanSampler(root: .always, followsParent: true))
        #expect(try SpanSampler.resolve("always_off", argument: nil) == SpanSampler(root: .never, followsParent: false))
        #expect(try SpanSampler.resolve("PARENTBASED_TRACEIDRATIO", argument: "0.5") == SpanSampler(root: .ratio(bound: 1 << 63), followsParent: true))
        #expect(try SpanSampler.resolve("traceidratio", argument: nil).root == .always)
        #expect { try SpanSampler.resolve("sometimes", argument: nil) } throws: { "\($0)".contains("OTEL_TRACES_SAMPLER") && "\($0)".contains("always_on") }
        #expect { try SpanSampler.resolve("traceidratio", argument: "2") } throws: { "\($0)".contains("OTEL_TRACES_SAMPLER_ARG") }
    }

    @Test("a ratio records about that share of new traces, by trace id; a span with a parent follows its parent either way")
    func ratio() throws {
        let sampler = try SpanSampler.resolve("parentbased_traceidratio", argument: "0.1")
        var random = SystemRandomNumberGenerator()
        let recorded = (0..<10_000).count { _ in sampler.samples(traceID: .random(using: &random), parent: nil) }
        // Binomial(10,000, 0.1): 1,000 ± 30; outside 800–1,200 is a broken bound, not chance.
        #expect((800...1200).contains(recorded), "\(recorded) of 10,000")
        let traceID = TraceID.random()
        #expect(sampler.samples(traceID: traceID, parent: nil) == sampler.samples(traceID: traceID, parent: nil))
        let parent = TraceContext(traceID: traceID, spanID: .random(), flags: [], state: TraceState())
        #expect(!sampler.samples(traceID: traceID, parent: parent))
        #expect(try SpanSampler.resolve("parentbased_always_off", argument: nil)
            .samples(traceID: traceID, parent: TraceContext(traceID: traceID, spanID: .random(), flags: .sampled, state: TraceState())))
    }

    @Test("a caller's traceparent is continued: same trace, a new span whose parent is the caller's, passed on to the next call")
    func continuesTheCallersTrace() throws {
        let tracer = Self.tracer(try SpanSampler.resolve(nil, argument: nil))
        let caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        var context = ServiceContext.topLevel
        tracer.extract(["traceparent": caller, "tracestate": "vendor=1"], into: &context, using: Headers())
        let span = tracer.startSpan("GET /books/{id}", context: context, ofKind: .server, at: DefaultTracerClock.now, function: "", file: "", line: 0)
        #expect(span.isRecording)
        var passedOn: [String: String] = [:]
        tracer.inject(span.context, into: &passedOn, using: Headers())
        let next = try TraceContext(traceParentHeaderValue: try #require(passedOn["traceparent"]), traceStateHeaderValue: passedOn["tracestate"])
        #expect(next.traceID.description == "0af7651916cd43dd8448eb211c80319c")
        #expect(next.spanID.description != "b7ad6b7169203331" && next.flags.contains(.sampled))
        #expect(span.context.spanIdentity?.parentSpanID?.description == "b7ad6b7169203331")
        #expect(passedOn["tracestate"] == "vendor=1")
        span.end()
        #expect(!span.isRecording)
    }

    @Test("a caller that did not sample is not recorded here, and the next call hears the same; a malformed traceparent starts a new trace")
    func unsampledAndMalformed() throws {
        let tracer = Self.tracer(try SpanSampler.resolve(nil, argument: nil))
        var context = ServiceContext.topLevel
        tracer.extract(["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"], into: &context, using: Headers())
        let span = tracer.startSpan("GET /books/{id}", context: context, ofKind: .server, at: DefaultTracerClock.now, function: "", file: "", line: 0)
        #expect(!span.isRecording)
        span.attributes["ignored"] = "yes"
        #expect(span.attributes.isEmpty)
        var passedOn: [String: String] = [:]
        tracer.inject(span.context, into: &passedOn, using: Headers())
        #expect(passedOn["traceparent"]?.hasPrefix("00-0af7651916cd43dd8448eb211c80319c-") == true && passedOn["traceparent"]?.hasSuffix("-00") == true)

        var fresh = ServiceContext.topLevel
        tracer.extract(["traceparent": "00-not-a-trace"], into: &fresh, using: Headers())
        #expect(fresh.spanIdentity == nil)
    }
}
