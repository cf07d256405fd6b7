import AsyncHTTPClient
import BazarService
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// OpenTelemetry's batch span processor settings (`OTEL_BSP_…`), with its defaults.
struct BatchSettings: Sendable, Equatable {
    /// How often a batch leaves (`OTEL_BSP_SCHEDULE_DELAY`, 5,000 ms).
    var scheduleDelay = Duration.milliseconds(5000)
    /// Spans held at most; what ends beyond it is dropped and counted (`OTEL_BSP_MAX_QUEUE_SIZE`, 2,048).
    var maxQueueSize = 2048
    /// Spans per request at most; a full batch leaves at once (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, 512).
    var maxExportBatchSize = 512
    /// How long one request may take (`OTEL_BSP_EXPORT_TIMEOUT`, 30,000 ms).
    var exportTimeout = Duration.milliseconds(30000)

    static func fromEnvironment() throws -> BatchSettings {
        let settings = BatchSettings(
            scheduleDelay: .milliseconds(try Setting.positiveInt(nil, env: "OTEL_BSP_SCHEDULE_DELAY", default: 5000)),
            maxQueueSize: try Setting.positiveInt(nil, env: "OTEL_BSP_MAX_QUEUE_SIZE", default: 2048),
            maxExportBatchSize: try Setting.positiveInt(nil, env: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default: 512),
            exportTimeout: .milliseconds(try Setting.positiveInt(nil, env: "OTEL_BSP_EXPORT_TIMEOUT", default: 30000)))
        guard settings.maxExportBatchSize <= settings.maxQueueSize else {
            throw ConfigurationError(
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE (\(settings.maxExportBatchSize)) is larger than OTEL_BSP_MAX_QUEUE_SIZE (\(settings.maxQueueSize))")
        }
        return settings
    }
}

/// Holds ended spans and posts them to the collector in batches: every schedule delay, at once
/// when a batch is full, and what is left at shutdown. A collector that is down or slow costs
/// the spans of that batch (and a warning), never a request: spans beyond the queue are dropped.
final class SpanBatchExporter: Service {
    private let export: TraceExport
    private let process: TracedProcess
    private let settings: BatchSettings
    private let logger: Logger
    private let queue = Mutex<Queue>(Queue())
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    struct Queue {
        var spans: [FinishedSpan] = []
        var dropped = 0
    }

    init(export: TraceExport, process: TracedProcess, settings: BatchSettings, logger: Logger) {
        self.export = export
        self.process = process
        self.settings = settings
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Called as a span ends, on the request's path: a lock, an append, and a wake when a batch is full.
    @Sendable func enqueue(_ span: FinishedSpan) {
        let isBatchFull = queue.withLock { queue in
            guard queue.spans.count < settings.maxQueueSize else {
                queue.dropped += 1
                return false
            }
            queue.spans.append(span)
            return queue.spans.count == settings.maxExportBatchSize
        }
        if isBatchFull { wake.yield() }
    }

    func flush() { wake.yield() }

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        // The export's own requests make no spans.
        configuration.tracing.tracer = nil
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        await withDiscardingTaskGroup { group in
            group.addTask { [wake, settings] in
                while (try? await Task.sleep(for: settings.scheduleDelay)) != nil { wake.yield() }
            }
            await withGracefulShutdownHandler {
                for await _ in wakes { await sendQueued(with: http) }
            } onGracefulShutdown: { [wake] in
                wake.finish()
            }
            // Stopped after the application (ServiceStart orders them): its last spans go too.
            await sendQueued(with: http)
            group.cancelAll()
        }
        try await http.shutdown()
    }

    private func sendQueued(with http: HTTPClient) async {
        while true {
            let (batch, dropped) = queue.withLock { queue in
                let batch = Array(queue.spans.prefix(settings.maxExportBatchSize))
                queue.spans.removeFirst(batch.count)
                defer { queue.dropped = 0 }
                return (batch, queue.dropped)
            }
            if dropped > 0 {
                logger.warning("spans dropped: the export queue was full", metadata: [
                    "dropped": "\(dropped)", "queue": "\(settings.maxQueueSize)",
                ])
            }
            guard !batch.isEmpty else { return }
            await send(batch, with: http)
        }
    }

    private func send(_ batch: [FinishedSpan], with http: HTTPClient) async {
        var request = HTTPClientRequest(url: export.tracesURL)
        request.method = .POST
        do {
            switch export.encoding {
            case .protobuf:
                request.headers.add(name: "Content-Type", value: "application/x-protobuf")
                request.body = .bytes(OTLPTraceEncoding.protobuf(batch, from: process))
            case .json:
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(try OTLPTraceEncoding.json(batch, from: process))
            }
            let response = try await http.execute(request, timeout: .milliseconds(settings.exportTimeout.milliseconds))
            _ = try? await response.body.collect(upTo: 1 << 20)
            guard (200..<300).contains(response.status.code) else {
                logger.warning("spans not accepted by the collector", metadata: [
                    "status": "\(response.status.code)", "spans": "\(batch.count)", "endpoint": "\(export.tracesURL)",
                ])
                return
            }
        } catch {
            logger.warning("spans not sent", metadata: [
                "error": "\(error)", "spans": "\(batch.count)", "endpoint": "\(export.tracesURL)",
            ])
        }
    }
}
