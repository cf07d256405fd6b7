import BazarHarness
import BazarService
import Foundation
import Testing

/// G7's evidence read from the replicas' logs: two replicas of a service leading in one term is a
/// violation where the majority rules apply, and nothing else is.
@Suite("Leaderships from replica logs")
struct LeadershipsTests {
    /// A line as the replicas write it (the default format).
    static func line(_ replica: String, term: Int, _ message: String = "became leader") -> String {
        ServiceLogHandler.line(format: .logfmt, time: "2026-11-30T02:23:37+0000", level: .notice, label: replica, message: message,
                               metadata: ["seq": "1", "term": "\(term)"], source: "BazarReplication")
            .trimmingCharacters(in: .newlines)
    }

    @Test("one leader per term holds; two in one term are named; other services and messages are not counted")
    func terms() {
        let logs = [
            "catalog-1": [Self.line("catalog-1", term: 1), Self.line("catalog-1", term: 2, "voted")].joined(separator: "\n"),
            "catalog-2": Self.line("catalog-2", term: 2),
            "catalog-3": Self.line("catalog-3", term: 3),
            "order-1": Self.line("order-1", term: 1),
            "order-2": Self.line("order-2", term: 1),
        ]
        let leaderships = Leaderships(logs: logs)
        #expect(leaderships.leaders["catalog"] == [1: ["catalog-1"], 2: ["catalog-2"], 3: ["catalog-3"]])
        #expect(leaderships.violations(of: ["catalog"]).isEmpty)
        #expect(leaderships.violations(of: ["catalog", "order"]) == ["G7: order-1 and order-2 both led order in term 1"])
    }
}
