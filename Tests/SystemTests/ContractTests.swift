import BazarModels
import BazarService
import Foundation
import FrontService
import Testing

/// The HTTP contract of `shared/spec/api.md`, checked over real HTTP against the five real
/// executables.
@Suite("System: the contract through the front end", .serialized)
struct ContractTests {
    @Test("every public route answers as the contract says")
    func publicRoutes() async throws {
        try await SystemCluster.with { bazar in
            let front = bazar.front
            // Search: case-insensitive, URL-encoded, unknown topic gives an empty list.
            let search = try await bazar.call(.GET, front + "/search/Distributed%20Systems")
            #expect(search.status == 200)
            let result = try search.decode(SearchResult.self)
            #expect(result.topic == "Distributed Systems")
            #expect(result.items.map(\.id) == [1, 2, 5])
            #expect(search.header("X-Cache") == "MISS")
            #expect(search.header("X-Served-By")?.hasPrefix("catalog-") == true)
            let again = try await bazar.call(.GET, front + "/search/distributed%20systems")
            #expect(again.header("X-Cache") == "HIT")
            #expect(again.header("X-Served-By") == search.header("X-Served-By"))
            #expect(try again.decode(SearchResult.self).items == result.items)
            #expect(try await bazar.call(.GET, front + "/search/knitting").decode(SearchResult.self).items.isEmpty)

            // Info, with the request id echoed.
            let info = try await bazar.call(.GET, front + "/info/4", headers: [("X-Request-ID", "contract-test-1")])
            #expect(info.header("X-Request-ID") == "contract-test-1")
            let book = try info.decode(BookInfo.self)
            #expect(book.title == "Cooking for the Impatient Undergrad" && book.topic == "undergraduate school")
            let object = try JSONSerialization.jsonObject(with: Data(info.text.utf8)) as? [String: Any]
            #expect(Set(object?.keys.map { $0 } ?? []) == ["id", "title", "topic", "quantity", "price"])
            #expect(info.header("Content-Type") == "application/json; charset=utf-8")

            // Purchase, then the order by id and in the list.
            let purchase = try await bazar.call(.POST, front + "/purchase/4")
            #expect(purchase.status == 200)
            #expect(purchase.header("X-Served-By")?.hasPrefix("order-") == true)
            let order = try purchase.decode(Order.self)
            #expect(order.bookID == 4 && order.title == book.title && order.price == book.price)
            #expect(abs(order.createdAt.timeIntervalSinceNow) < 60)
            let fetched = try await bazar.call(.GET, front + "/orders/\(order.orderID)")
            #expect(try fetched.decode(Order.self) == order)
            let second = try await bazar.call(.POST, front + "/purchase/3").decode(Order.self)
            let list = try await bazar.call(.GET, front + "/orders?limit=2").decode(OrderList.self)
            #expect(list.items == [second, order])

            // Admin writes.
            let patched = try await bazar.call(.PATCH, front + "/books/3", json: #"{"price": 31.5, "quantity": 7}"#, admin: true)
            #expect(patched.status == 200)
            let record = try patched.decode(Book.self)
            #expect(record.price == Money(cents: 3150) && record.quantity == 7)
            let restocked = try await bazar.call(.POST, front + "/books/3/restock", json: #"{"count": 5}"#, admin: true)
            #expect(try restocked.decode(Book.self).quantity == 12)
            #expect(try await bazar.call(.GET, front + "/info/3").decode(BookInfo.self).quantity == 12)

            // Cache administration and health.
            let stats = try await bazar.call(.GET, front + "/cache/stats")
            let counters = try JSONSerialization.jsonObject(with: Data(stats.text.utf8)) as? [String: Int]
            // The contract's counters, plus the two of docs/front-end.md.
            #expect(Set(counters?.keys.map { $0 } ?? []) == ["capacity", "size", "hits", "misses", "evictions", "invalidations", "expirations", "coalesced"])
            #expect((counters?["hits"] ?? 0) >= 1 && (counters?["invalidations"] ?? 0) >= 3)
            #expect(try await bazar.call(.DELETE, front + "/cache", admin: true).status == 204)
            #expect(try await bazar.call(.GET, front + "/info/1").header("X-Cache") == "MISS")
            #expect(try await bazar.call(.GET, front + "/health").status == 200)
            #expect(try await bazar.call(.GET, front + "/ready").status == 200)
        }
    }

    @Test("every error of the contract, in its shape")
    func errors() async throws {
        try await SystemCluster.with { bazar in
            let front = bazar.front
            func expectError(_ reply: BackendClient.Reply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(reply.status == status, sourceLocation: sourceLocation)
                #expect(reply.errorCode == code, sourceLocation: sourceLocation)
                #expect(reply.header("Content-Type") == "application/json; charset=utf-8", sourceLocation: sourceLocation)
            }
            expectError(try await bazar.call(.GET, front + "/info/abc"), 400, "invalid_id")
            expectError(try await bazar.call(.GET, front + "/info/-1"), 400, "invalid_id")
            expectError(try await bazar.call(.POST, front + "/purchase/x"), 400, "invalid_id")
            expectError(try await bazar.call(.PATCH, front + "/books/1", json: "{oops", admin: true), 400, "invalid_body")
            expectError(try await bazar.call(.PATCH, front + "/books/1", json: #"{"price": -2}"#, admin: true), 400, "invalid_body")
            expectError(try await bazar.call(.PATCH, front + "/books/1", json: #"{"quantity": -2}"#, admin: true), 400, "invalid_parameter")
            expectError(try await bazar.call(.POST, front + "/books/1/restock", json: #"{"count": 0}"#, admin: true), 400, "invalid_parameter")
            expectError(try await bazar.call(.GET, front + "/orders?limit=-4"), 400, "invalid_parameter")
            expectError(try await bazar.call(.PATCH, front + "/books/1", json: #"{"price": 1}"#), 401, "unauthorized")
            expectError(try await bazar.call(.PATCH, front + "/books/1", json: #"{"price": 1}"#, headers: [("Authorization", "Bearer wrong")]), 401, "unauthorized")
            expectError(try await bazar.call(.DELETE, front + "/cache"), 401, "unauthorized")
            expectError(try await bazar.call(.POST, bazar.url("catalog-1") + "/internal/replication/append", json: "{}"), 401, "unauthorized")
            expectError(try await bazar.call(.POST, front + "/internal/cache/invalidate", json: "{}"), 401, "unauthorized")
            expectError(try await bazar.call(.GET, front + "/info/999"), 404, "not_found")
            expectError(try await bazar.call(.POST, front + "/purchase/999"), 404, "not_found")
            expectError(try await bazar.call(.GET, front + "/orders/no-such-order"), 404, "not_found")
            expectError(try await bazar.call(.GET, front + "/no/such/route"), 404, "not_found")
            expectError(try await bazar.call(.DELETE, front + "/info/1"), 405, "method_not_allowed")
            expectError(try await bazar.call(.GET, front + "/purchase/1"), 405, "method_not_allowed")
            try await bazar.setStock(6, 0)
            expectError(try await bazar.call(.POST, front + "/purchase/6"), 409, "out_of_stock")
            let huge = #"{"count": 1, "pad": "\#(String(repeating: "x", count: 70_000))"}"#
            expectError(try await bazar.call(.POST, front + "/books/1/restock", json: huge, admin: true), 413, "payload_too_large")
            // The catalog's own routes answer in the same shapes.
            expectError(try await bazar.call(.GET, bazar.url("catalog-2") + "/books/abc"), 400, "invalid_id")
            expectError(try await bazar.call(.DELETE, bazar.url("order-2") + "/orders"), 405, "method_not_allowed")
        }
    }

    @Test("replication status names the leader on every replica")
    func replicationStatus() async throws {
        try await SystemCluster.with { bazar in
            for member in ["catalog-1", "catalog-2", "order-1", "order-2"] {
                let status = try await bazar.call(.GET, bazar.url(member) + "/replication/status").decode(ReplicationStatus.self)
                let service = String(member.prefix { $0 != "-" })
                #expect(status.replica == member)
                #expect(status.leader == "\(service)-1")
                #expect(status.role == (member.hasSuffix("-1") ? .leader : .follower))
                #expect(status.term >= 1)
            }
        }
    }
}

@Suite("System: metrics")
struct MetricsTests {
    @Test("every service serves Prometheus text at /metrics: requests, the cache, the replication log")
    func metrics() async throws {
        try await SystemCluster.with { bazar in
            let front = bazar.front
            _ = try await bazar.call(.GET, front + "/info/1")
            _ = try await bazar.call(.GET, front + "/info/1")
            #expect(try await bazar.call(.POST, front + "/purchase/2").status == 200)

            let frontMetrics = try await bazar.call(.GET, front + "/metrics")
            #expect(frontMetrics.status == 200)
            #expect(frontMetrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let exposition = try Exposition(frontMetrics.text)
            #expect(exposition.value("hb_requests", ["http_route": "/info/{id}", "http_response_status_code": "200"]) ?? 0 >= 2)
            #expect(exposition.value("bazar_cache_hits_total") ?? 0 >= 1)
            #expect(exposition.value("bazar_cache_misses_total") ?? 0 >= 1)
            #expect(exposition.value("bazar_cache_invalidations_total") ?? 0 >= 1)  // the purchase's
            // Every replica is in the front end's rotation, or back in it within a few health checks:
            // a follower whose lease lapsed under load (CI runs suites side by side) answers /ready
            // with 503 until the leader's next push, and the front end takes it out meanwhile.
            let replicas = ["catalog-1", "catalog-2", "order-1", "order-2"]
            var up = replicas.filter { exposition.value("bazar_replica_up", ["replica": $0]) == 1 }
            let deadline = ContinuousClock.now + (FrontConfiguration.defaultHealthInterval + FrontConfiguration.defaultLease) * 10
            while up.count < replicas.count, ContinuousClock.now < deadline {
                try await Task.sleep(for: FrontConfiguration.defaultHealthInterval)
                let again = try Exposition(try await bazar.call(.GET, front + "/metrics").text)
                up = replicas.filter { again.value("bazar_replica_up", ["replica": $0]) == 1 }
            }
            #expect(up == replicas, "in the front end's rotation: \(up)")

            // Both catalog replicas report the same log position once the follower has the purchase.
            var positions: [String: Double] = [:]
            for member in ["catalog-1", "catalog-2"] {
                let reply = try await bazar.call(.GET, bazar.url(member) + "/metrics")
                let replica = try Exposition(reply.text)
                #expect(replica.value("bazar_replication_leader") == (member == "catalog-1" ? 1 : 0))
                #expect(replica.value("bazar_replication_in_sync") == 1)
                #expect(replica.value("bazar_replication_term") ?? 0 >= 1)
                positions[member] = replica.value("bazar_replication_last_seq")
            }
            #expect(positions["catalog-1"] ?? 0 >= 1)
            #expect(positions["catalog-1"] == positions["catalog-2"])
        }
    }
}

/// A Prometheus text exposition, read sample by sample: `name{label="value",…} number`.
struct Exposition {
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    init(_ text: String) throws {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let (series, number) = (line[..<line.lastIndex(of: " ")!], line[line.index(after: line.lastIndex(of: " ")!)...])
            let value = try #require(Double(number), "not a sample: \(line)")
            guard let brace = series.firstIndex(of: "{") else {
                samples.append((String(series), [:], value))
                continue
            }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            samples.append((String(series[..<brace]), labels, value))
        }
    }

    /// The sample of `name` whose labels include `labels`; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }
}
