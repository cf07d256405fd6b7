import BazarCluster
import BazarTestSupport
import Foundation
import Testing

/// One purchase followed through every service: by its request id in their logs, and by its spans
/// at an OTLP/HTTP collector the test runs.
@Suite("System: following a request", .serialized)
struct TracingTests {
    /// How often the services send their spans here (OpenTelemetry's `OTEL_BSP_SCHEDULE_DELAY`, ms).
    static let exportDelayMs = 200

    /// In both of OTLP/HTTP's encodings: the replicas' come from swift-otel, the front end's from
    /// its own exporter, and the collector reads both.
    @Test("a purchase's request id is in the log of every replica it reached, and its spans reach a collector as one trace across front end, order and catalog",
          arguments: ["http/protobuf", "http/json"])
    func purchaseIsFollowed(encoding: String) async throws {
        try await OTLPCollector.with { collector in
            try await SystemCluster.with(environment: [
                "BAZAR_OTLP_ENDPOINT": collector.url, "BAZAR_OTLP_PROTOCOL": encoding,
                "OTEL_BSP_SCHEDULE_DELAY": "\(Self.exportDelayMs)", "BAZAR_LOG_LEVEL": "debug",
            ]) { bazar in
                try await bazar.setStock(2, 5)
                let requestID = "follow-\(UUID().uuidString.prefix(8).lowercased())"
                let purchase = try await bazar.call(.POST, bazar.front + "/purchase/2", headers: [("X-Request-ID", requestID)])
                #expect(purchase.status == 200)

                // The spans: a batch leaves each service every export delay; a slow machine may
                // take a few rounds, and a missing span never arrives however long one waits.
                var trace: PurchaseTrace?
                try await bazar.waitUntil("the purchase's spans form one whole trace", within: .milliseconds(Self.exportDelayMs * 100)) {
                    trace = PurchaseTrace(await collector.received(), requestID: requestID)
                    return trace?.isWhole == true && trace?.reachesFollowers == true
                }
                #expect(await collector.undecodableRequests() == 0)
                #expect(await Array(collector.contentTypes().keys) == [encoding == "http/json" ? "application/json" : "application/x-protobuf"])
                // Only requests of the API start traces: no heartbeat, health check or vote does.
                let roots = await collector.received().filter { $0.parentSpanID == nil }
                let operational = ["/health", "/ready", "/metrics", "/status", "/replication/status"]
                #expect(roots.allSatisfy { $0.service == "bazar-front" && $0.kind == .server && !$0.name.hasPrefix("/internal/") && !operational.contains($0.name) },
                        "\(roots.map { "\($0.name) at \($0.instance)" })")
                #expect(Set(roots.map(\.name)).isSuperset(of: ["/books/{id}", "/purchase/{id}"]))
                guard let trace else { return }
                print(trace.tree)
                #expect(trace.services == ["bazar-front", "bazar-order", "bazar-catalog"])
                // Every call between services carried the caller's span (traceparent): a server
                // span's parent is a client span of another process.
                for span in trace.spans where span.kind == .server && span.parentSpanID != nil {
                    let parent = trace.spans.first { $0.spanID == span.parentSpanID }
                    #expect(parent?.kind == .client && parent?.instance != span.instance, "\(span.name) at \(span.instance)")
                }
                let names = Set(trace.spans.map { "\($0.service) \($0.name)" })
                for expected in [
                    "bazar-front /purchase/{id}", "bazar-order /orders", "bazar-catalog transaction", "bazar-order transaction",
                    "bazar-catalog replicate", "bazar-catalog replication push", "bazar-catalog /internal/replication/append",
                    "bazar-order replication push", "bazar-catalog announce",
                ] {
                    #expect(names.contains(expected), "no span \(expected) in \(names.sorted())")
                }

                // The logs: every replica the purchase reached wrote its id (at debug level: the
                // request lines, and the followers' lines of the writes they applied).
                for member in bazar.layout.members.map(\.name) {
                    let log = try String(contentsOf: bazar.layout.logFile(of: member), encoding: .utf8)
                    #expect(log.contains(requestID), "\(member)'s log does not mention \(requestID)")
                }
            }
        }
    }
}

/// The spans of the trace whose front-end span recorded `requestID`.
struct PurchaseTrace {
    let spans: [ReceivedSpan]

    init?(_ received: [ReceivedSpan], requestID: String) {
        guard let root = received.first(where: { $0.service == "bazar-front" && $0.attributes.values.contains(requestID) }) else { return nil }
        spans = received.filter { $0.traceID == root.traceID }
    }

    /// One root, and every other span's parent among the spans.
    var isWhole: Bool {
        let ids = Set(spans.map(\.spanID))
        return spans.filter { $0.parentSpanID == nil }.count == 1
            && spans.allSatisfy { $0.parentSpanID.map(ids.contains) ?? true }
    }

    /// A follower of each service applied the write in this trace (its push reached it).
    var reachesFollowers: Bool {
        ["bazar-order", "bazar-catalog"].allSatisfy { service in
            spans.contains { $0.service == service && $0.name == "/internal/replication/append" }
        }
    }

    var services: Set<String> { Set(spans.map(\.service)) }

    /// The spans as an indented tree, children in the order received: for a reader of the test's output.
    var tree: String {
        func lines(under parent: String?, depth: Int) -> [String] {
            spans.filter { $0.parentSpanID == parent }.flatMap { span in
                ["\(String(repeating: "  ", count: depth))\(span.name)  [\(span.instance), \(span.kind)]"] + lines(under: span.spanID, depth: depth + 1)
            }
        }
        return lines(under: nil, depth: 0).joined(separator: "\n")
    }
}
