import Hummingbird
import Metrics
import NIOCore
import Prometheus

/// The process's metrics (swift-metrics, exported by swift-prometheus) and `GET /metrics`, their
/// Prometheus text exposition. Hummingbird's `MetricsMiddleware` counts and times every request;
/// services add their own (the front end's cache, a replica's place in the replication log).
public enum ServiceMetrics {
    public static let registry = PrometheusCollectorRegistry()

    /// Called once by each service's `main`: swift-metrics takes one backend per process. Without
    /// it (in-process tests) the libraries' metrics go nowhere; `/metrics` shows only Bazar's own.
    public static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Libraries name metrics the OpenTelemetry way (`http.server.request.duration`); Prometheus
        // names allow only letters, digits and underscores.
        factory.nameAndLabelSanitizer = { name, labels in
            (prometheusName(name), labels.map { (prometheusName($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(DescribedMetricsFactory(base: factory))
    }

    static func prometheusName(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    }
}

/// swift-prometheus gives the libraries' metrics no help text, and Hummingbird's counters no
/// `_total`: `promtool check metrics` refuses both. This factory names and describes the ones
/// Bazar's processes make (Hummingbird's `MetricsMiddleware`), and leaves the rest to swift-prometheus.
struct DescribedMetricsFactory: MetricsFactory {
    let base: PrometheusMetricsFactory

    /// Library name (as sanitized) to the name and help text it is exposed with.
    static let described: [String: (name: String, help: String)] = [
        "hb_requests": ("hb_requests_total", "Requests answered, by route, method and status (Hummingbird)."),
        "hb_request_errors": ("hb_request_errors_total", "Requests whose error escaped the error mapping, by route (Hummingbird)."),
        "http_server_request_duration": ("http_server_request_duration", "Time to answer a request, by route, method and status, in seconds (Hummingbird)."),
        "http_server_active_requests": ("http_server_active_requests", "Requests being answered now (Hummingbird)."),
    ]

    private func described(_ label: String, _ dimensions: [(String, String)]) -> (name: String, labels: [(String, String)], help: String)? {
        let (name, labels) = base.nameAndLabelSanitizer(label, dimensions)
        return Self.described[name].map { ($0.name, labels, $0.help) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let metric = described(label, dimensions) else { return base.makeCounter(label: label, dimensions: dimensions) }
        return base.registry.counter(metric.name, labels: metric.labels, help: metric.help)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard let metric = described(label, dimensions) else { return base.makeMeter(label: label, dimensions: dimensions) }
        return base.registry.gauge(metric.name, labels: metric.labels, help: metric.help)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let metric = described(label, dimensions) else { return base.makeTimer(label: label, dimensions: dimensions) }
        return base.registry.durationHistogram(metric.name, labels: metric.labels, buckets: base.durationHistogramBuckets[metric.name] ?? base.defaultDurationHistogramBuckets,
            help: metric.help)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}

extension ServiceMetrics {

    /// `GET /metrics`. `refresh` sets the gauges that are read off state just before the answer.
    public static func addRoute(
        to routes: RouteTable<BazarRequestContext>, refresh: @escaping @Sendable () async -> Void = {}
    ) {
        routes.get("/metrics") { _, _ -> Response in
            await refresh()
            let text = registry.emitToBuffer()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}

/// Bazar's metrics by their whole Prometheus name. swift-prometheus 2.4 deprecates names given as
/// one string for a descriptor of parts (namespace, subsystem, name, unit); the parts join with
/// underscores and an empty unit is left out, so a whole name with no unit is the same metric.
extension PrometheusCollectorRegistry {
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public func counter(_ name: String, labels: [(String, String)] = [], help: String) -> Prometheus.Counter {
        makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Prometheus.Gauge {
        makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func durationHistogram(_ name: String, labels: [(String, String)] = [], buckets: [Duration], help: String) -> Prometheus.DurationHistogram {
        makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
    }
}
