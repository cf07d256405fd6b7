import BazarService
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The replicas' tracer: OpenTelemetry's, from swift-otel (spans only: logs and metrics have their
/// own ways out). A replica links all of Foundation anyway (PostgresNIO does), so swift-otel costs
/// it nothing the front end's lighter exporter would save.
public enum OTelTracing {
    public static let bootstrap: TracerBootstrap = { export, process, logger in
        var configuration = OTel.Configuration.default
        configuration.serviceName = process.service
        configuration.resourceAttributes = ["service.instance.id": process.instance]
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.otlpExporter.endpoint = export.tracesURL
        configuration.traces.otlpExporter.protocol = export.encoding == .json ? .httpJSON : .httpProtobuf
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        return backend.service
    }
}
