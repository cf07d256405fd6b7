@testable import BazarService
import Testing

/// Where spans go: off by default, an OTLP/HTTP endpoint when set, a clear error when it cannot work.
@Suite("Trace export settings")
struct TraceSettingsTests {
    static func settings(_ flags: [String]) throws -> ServerSettings {
        try ServerOptions.parse(["--admin-token", "a", "--internal-token", "i"] + flags).resolve(defaultPort: 8080)
    }

    @Test("no endpoint, no export; an endpoint's spans go to its /v1/traces, protobuf unless JSON is asked for")
    func endpoint() throws {
        #expect(try Self.settings([]).traceExport == nil)
        let export = try #require(try Self.settings(["--otlp-endpoint", "http://collector:4318"]).traceExport)
        #expect(export.tracesURL == "http://collector:4318/v1/traces" && export.encoding == .protobuf)
        let json = try #require(try Self.settings(["--otlp-endpoint", "https://collector/otlp/", "--otlp-protocol", "HTTP/JSON"]).traceExport)
        #expect(json.tracesURL == "https://collector/otlp/v1/traces" && json.encoding == .json)
    }

    @Test("an endpoint that is no http(s) URL, or a protocol Bazar does not send, stops the service with the setting's name")
    func refused() throws {
        #expect { try Self.settings(["--otlp-endpoint", "collector:4318"]) } throws: { "\($0)".contains("BAZAR_OTLP_ENDPOINT") }
        #expect { try Self.settings(["--otlp-endpoint", "http://collector:4318", "--otlp-protocol", "grpc"]) } throws: {
            "\($0)".contains("BAZAR_OTLP_PROTOCOL") && "\($0)".contains("http/protobuf")
        }
    }

    @Test("a back-end call's span is named by the path it calls, without host or query")
    func spanName() {
        #expect(BackendClient.path(of: "http://127.0.0.1:8081/books/3?x=1") == "/books/3")
        #expect(BackendClient.path(of: "http://127.0.0.1:8081") == "/")
    }

    @Test("requests of the API start traces; health checks, scrapes, status polls and replication traffic start none")
    func startsTrace() {
        #expect(RequestSpans.startsTrace("/purchase/3") && RequestSpans.startsTrace("/books/3") && RequestSpans.startsTrace("/orders"))
        for path in ["/health", "/ready", "/metrics", "/status", "/replication/status", "/internal/replication/append", "/internal/subscriptions"] {
            #expect(!RequestSpans.startsTrace(path), "\(path)")
        }
    }
}
