import BazarService
import Foundation
import Testing

/// The services' log lines: logfmt by default, JSON on request, the service and replica on each.
@Suite("Log lines")
struct ServiceLogHandlerTests {
    static func line(_ format: LogFormat, label: String = "catalog-2", message: String = "became leader",
                     metadata: [String: String] = ["term": "3", "request_id": "r-1"]) -> String {
        ServiceLogHandler.line(format: format, time: "2026-12-01T04:00:00+0000", level: .notice, label: label, message: message,
                               metadata: metadata, source: "BazarReplication")
    }

    @Test("logfmt: fixed fields first, metadata by key, values quoted only when they must be")
    func logfmt() {
        #expect(Self.line(.logfmt) == """
            time=2026-12-01T04:00:00+0000 level=notice service=catalog replica=catalog-2 msg="became leader" request_id=r-1 term=3 source=BazarReplication

            """)
        let front = Self.line(.logfmt, label: "front", message: "a \"quoted\" word=x\\y", metadata: ["path": "/info/1", "empty": ""])
        #expect(front == #"time=2026-12-01T04:00:00+0000 level=notice service=front msg="a \"quoted\" word=x\\y" empty="" path=/info/1 source=BazarReplication"# + "\n")
    }

    @Test("json: one object per line, the same fields, control characters escaped")
    func json() throws {
        let text = Self.line(.json, message: "two\nlines\u{1}", metadata: ["error": "a \"b\" \\ c"])
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(object == [
            "time": "2026-12-01T04:00:00+0000", "level": "notice", "service": "catalog", "replica": "catalog-2",
            "msg": "two\nlines\u{1}", "error": "a \"b\" \\ c", "source": "BazarReplication",
        ])
        #expect(text.hasPrefix(#"{"time":"2026-12-01T04:00:00+0000","level":"notice","service":"catalog","replica":"catalog-2","msg":"#))
    }

    @Test("BAZAR_LOG_FORMAT takes logfmt or json, and names itself when wrong")
    func setting() throws {
        #expect(try Setting.logFormat("JSON") == .json)
        #expect(throws: ConfigurationError.self) { try Setting.logFormat("xml") }
    }
}
