import BazarModels
import BazarService
import BazarTestSupport
import Foundation
import Testing

/// Bad and hostile input through the real front end: every limit answers 4xx with the contract's
/// error body, no request gets a 5xx or crashes a process, and slow or flooding clients are cut
/// off or held back rather than taking the service down.
@Suite("System: hostile input", .serialized)
struct HostileInputTests {
    @Test("every limit and malformed input answers 4xx with the error body, and writes nothing")
    func limits() async throws {
        try await SystemCluster.with { bazar in
            let front = bazar.front
            var answered: [(String, Int)] = []
            func expectError(
                _ what: String, _ reply: BackendClient.Reply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation
            ) {
                answered.append((what, reply.status))
                #expect(reply.status == status, "\(what): \(reply.status) \(reply.text.prefix(300))", sourceLocation: sourceLocation)
                #expect(reply.errorCode == code, "\(what): \(reply.text.prefix(300))", sourceLocation: sourceLocation)
            }
            let before = try await bazar.book(at: "catalog-1", 1)

            // Lengths: the whole target, and a topic.
            expectError("long path", try await bazar.call(.GET, front + "/search/" + String(repeating: "x", count: 5000)), 414, "uri_too_long")
            expectError("long query", try await bazar.call(.GET, front + "/orders?limit=1&pad=" + String(repeating: "y", count: 5000)), 414, "uri_too_long")
            expectError("long topic", try await bazar.call(.GET, front + "/search/" + String(repeating: "t", count: 201)), 400, "invalid_parameter")
            let stacked = "e" + String(repeating: "%CC%81", count: 250)  // one character, 251 scalars
            expectError("topic of combining marks", try await bazar.call(.GET, front + "/search/" + stacked), 400, "invalid_parameter")

            // Ids: beyond any integer, zero, negative.
            expectError("id past Int64", try await bazar.call(.GET, front + "/info/99999999999999999999"), 400, "invalid_id")
            expectError("id zero", try await bazar.call(.GET, front + "/info/0"), 400, "invalid_id")
            expectError("negative id", try await bazar.call(.POST, front + "/purchase/-5"), 400, "invalid_id")
            expectError("largest id", try await bazar.call(.GET, front + "/info/9223372036854775807"), 404, "not_found")
            expectError("largest id bought", try await bazar.call(.POST, front + "/purchase/9223372036854775807"), 404, "not_found")

            // `limit`.
            for limit in ["0", "100001", "abc", "99999999999999999999", "-1", "1.5"] {
                expectError("limit=\(limit)", try await bazar.call(.GET, front + "/orders?limit=\(limit)"), 400, "invalid_parameter")
            }

            // Bodies: type, syntax, depth, fields, ranges, numbers JSON cannot hold.
            func patch(_ json: String, contentType: String? = nil) async throws -> BackendClient.Reply {
                try await bazar.call(.PATCH, front + "/books/1", json: json, headers: contentType.map { [("Content-Type", $0)] } ?? [], admin: true)
            }
            func restock(_ json: String) async throws -> BackendClient.Reply {
                try await bazar.call(.POST, front + "/books/1/restock", json: json, admin: true)
            }
            expectError("text/plain body", try await patch(#"{"price": 3}"#, contentType: "text/plain"), 415, "unsupported_media_type")
            expectError("form body", try await patch(#"{"price": 3}"#, contentType: "application/x-www-form-urlencoded"), 415, "unsupported_media_type")
            expectError("truncated JSON", try await patch(#"{"price": "#), 400, "invalid_body")
            expectError("not an object", try await patch("[1, 2]"), 400, "invalid_body")
            expectError("nested 10,000 deep", try await patch(#"{"price": "# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"), 400, "invalid_body")
            expectError("objects nested deep", try await patch(String(repeating: #"{"a":"#, count: 5_000) + "1" + String(repeating: "}", count: 5_000)), 400, "invalid_body")
            let misspelt = try await patch(#"{"prise": 3}"#)
            expectError("unknown field", misspelt, 400, "invalid_body")
            #expect(misspelt.text.contains("prise"), "the error names the unknown field: \(misspelt.text)")
            expectError("unknown field beside a known one", try await restock(#"{"count": 1, "extra": true}"#), 400, "invalid_body")
            expectError("count 0", try await restock(#"{"count": 0}"#), 400, "invalid_parameter")
            expectError("count -1", try await restock(#"{"count": -1}"#), 400, "invalid_parameter")
            expectError("count over the limit", try await restock(#"{"count": 1000001}"#), 400, "invalid_parameter")
            expectError("count Int64.max", try await restock(#"{"count": 9223372036854775807}"#), 400, "invalid_parameter")
            expectError("count past Int64", try await restock(#"{"count": 1e30}"#), 400, "invalid_body")
            expectError("count fractional", try await restock(#"{"count": 1.5}"#), 400, "invalid_body")
            expectError("count as text", try await restock(#"{"count": "3"}"#), 400, "invalid_body")
            expectError("quantity over the limit", try await patch(#"{"quantity": 1000000001}"#), 400, "invalid_parameter")
            expectError("price with three decimals", try await patch(#"{"price": 12.345}"#), 400, "invalid_body")
            expectError("negative price", try await patch(#"{"price": -1}"#), 400, "invalid_body")
            expectError("price past Double", try await patch(#"{"price": 1e999}"#), 400, "invalid_body")
            expectError("price NaN", try await patch(#"{"price": NaN}"#), 400, "invalid_body")
            expectError("price as text NaN", try await patch(#"{"price": "NaN"}"#), 400, "invalid_body")
            expectError("price Infinity", try await patch(#"{"price": Infinity}"#), 400, "invalid_body")
            expectError("empty patch", try await patch("{}"), 400, "invalid_body")
            expectError("null quantity beside a price", try await patch(#"{"price": 25, "quantity": null}"#), 400, "invalid_body")
            expectError("null price beside a quantity", try await patch(#"{"price": null, "quantity": 5}"#), 400, "invalid_body")
            let huge = #"{"count": 1, "pad": ""# + String(repeating: "x", count: 70_000) + #""}"#
            expectError("body over the limit", try await restock(huge), 413, "payload_too_large")

            // Nothing was written, no answer was a 5xx, and every process still runs.
            let after = try await bazar.book(at: "catalog-1", 1)
            #expect(after == before, "a refused write changed the book: \(before) → \(after)")
            #expect(answered.allSatisfy { $0.1 < 500 }, "\(answered.filter { $0.1 >= 500 })")
            for member in bazar.layout.members.map(\.name) {
                #expect(await bazar.cluster.isRunning(member), "\(member) died")
            }
        }
    }

    @Test("a client that trickles its request head or says nothing is cut off after the idle timeout; a flood of connections waits, and the front end serves again")
    func slowAndFloodingClients() async throws {
        let idle = Duration.milliseconds(10_000)
        let maxConnections = 32
        try await SystemCluster.with(environment: [
            "BAZAR_IDLE_TIMEOUT_MS": String(idle.milliseconds), "BAZAR_MAX_CONNECTIONS": String(maxConnections),
        ]) { bazar in
            let port = bazar.layout.frontPort
            // Closed once the idle timeout has passed, with room for a loaded machine's timers.
            let limit = idle * 2
            let (trickled, silent) = try await RawConnection.onOwnThread { () -> (Bool, Bool) in
                let slow = try RawConnection(port: port)
                let quiet = try RawConnection(port: port)
                slow.send("GET /health HTTP/1.1\r\nHost: bazar\r\n")
                // One header line a second: never idle for long, never a complete head.
                let start = ContinuousClock.now
                var closed = false
                while !closed, ContinuousClock.now - start < limit {
                    closed = !slow.send("X-Slow-\(Int.random(in: 0..<1000)): y\r\n") || slow.isClosed(within: .seconds(1))
                }
                return (closed, quiet.isClosed(within: limit - (ContinuousClock.now - start)))
            }
            #expect(trickled, "a client trickling its head was not cut off within \(limit)")
            #expect(silent, "a silent connection was not closed within \(limit)")

            // More connections than the front end takes: they wait, none crashes anything, and
            // once the idle ones are closed a new client is served.
            // (Accepted in turn: the first `maxConnections` are closed after `idle`, then the rest,
            // then the client's; so within three idle timeouts, and room for a loaded machine.)
            let flood = try await RawConnection.onOwnThread { try (0..<(maxConnections + 8)).map { _ in try RawConnection(port: port) } }
            let started = ContinuousClock.now
            let wait = idle * 3 + limit
            var served = false
            while !served, ContinuousClock.now - started < wait {
                served = (try? await bazar.call(.GET, bazar.front + "/health"))?.status == 200
            }
            #expect(served, "no answer within \(wait) of a flood of \(flood.count) connections")
            #expect(await bazar.cluster.isRunning("front"), "the front end died under the flood")
            withExtendedLifetime(flood) {}
        }
    }
}
