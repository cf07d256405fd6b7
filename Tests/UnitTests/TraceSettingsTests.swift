@testable import BazarService
import HTTPTypes
import Hummingbird
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

    @Test("a request starts a trace unless its route's table starts none (the operational and internal ones)")
    func startsTrace() throws {
        let router = ServiceApplication.makeRouter(settings: try Self.settings(["--otlp-endpoint", "http://collector:4318"]))
        let api = RouteTable<BazarRequestContext>().get("/books/:id") { _, _ in "" }.post("/purchase/:id") { _, _ in "" }
        let quiet = RouteTable<BazarRequestContext>(startsTraces: false).get("/health") { _, _ in "" }.post("/internal/replication/append") { _, _ in "" }
        router.add(api, quiet)
        let spans = RequestSpans(untraced: router.untraced)
        func request(_ method: HTTPRequest.Method, _ path: String) -> Request {
            Request(head: HTTPRequest(method: method, scheme: "http", authority: "bazar", path: path), body: RequestBody(buffer: ByteBuffer()))
        }
        #expect(spans.startsTrace(request(.get, "/books/3")) && spans.startsTrace(request(.post, "/purchase/3")))
        #expect(!spans.startsTrace(request(.get, "/health")) && !spans.startsTrace(request(.post, "/internal/replication/append")))
        // Another method on a quiet path is not one of its routes.
        #expect(spans.startsTrace(request(.delete, "/health")))
    }
}
