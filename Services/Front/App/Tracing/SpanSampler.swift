import BazarService
import Tracing
import W3CTraceContext

/// Which traces are recorded, as OpenTelemetry's `OTEL_TRACES_SAMPLER` (and `_ARG`) says: every
/// one by default (`parentbased_always_on`); under load, a share of the traces that start here
/// (`parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG=0.01`), decided from the trace id so
/// that every process decides a trace alike. "parentbased": a span with a parent follows its
/// parent's decision, so a trace is recorded whole or not at all.
struct SpanSampler: Sendable, Equatable {
    enum Root: Sendable, Equatable {
        case always, never
        /// The trace ids whose last 8 bytes fall below this bound (ratio × 2⁶⁴).
        case ratio(bound: UInt64)
    }

    var root: Root
    var followsParent: Bool

    static let names = [
        "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
    ]

    static func fromEnvironment() throws -> SpanSampler {
        try resolve(
            Setting.optionalString(nil, env: "OTEL_TRACES_SAMPLER"), argument: Setting.optionalString(nil, env: "OTEL_TRACES_SAMPLER_ARG"))
    }

    static func resolve(_ name: String?, argument: String?) throws -> SpanSampler {
        let name = name?.lowercased() ?? "parentbased_always_on"
        let followsParent = name.hasPrefix("parentbased_")
        let root: Root
        switch followsParent ? String(name.dropFirst("parentbased_".count)) : name {
        case "always_on": root = .always
        case "always_off": root = .never
        case "traceidratio":
            let text = argument ?? "1.0"
            guard let ratio = Double(text), (0...1).contains(ratio) else {
                throw ConfigurationError("OTEL_TRACES_SAMPLER_ARG '\(text)' is not a ratio between 0 and 1 (the share of traces to record)")
            }
            root = ratio >= 1 ? .always : .ratio(bound: UInt64(ratio * 0x1p64))
        default:
            throw ConfigurationError("OTEL_TRACES_SAMPLER '\(name)' is not one of \(names.joined(separator: ", "))")
        }
        return SpanSampler(root: root, followsParent: followsParent)
    }

    func samples(traceID: TraceID, parent: TraceContext?) -> Bool {
        if followsParent, let parent { return parent.flags.contains(.sampled) }
        switch root {
        case .always: return true
        case .never: return false
        case .ratio(let bound):
            let bytes = traceID.bytes
            let tail = [bytes.8, bytes.9, bytes.10, bytes.11, bytes.12, bytes.13, bytes.14, bytes.15]
            return tail.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } < bound
        }
    }
}
