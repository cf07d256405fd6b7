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
        MetricsSystem.bootstrap(factory)
    }

    static func prometheusName(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    }

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
