import BazarModels
import BazarService
import Foundation
import FrontService
import Testing

/// The HTTP contract of `shared/spec/api.md`, checked over real HTTP against the five real
/// executables.
@Suite("System: the contract through the front end", .serialized)
struct ContractTests {
    @Test("every public route answers as the contract says; a purchase shows at once; 50 buyers of 10 copies")
    func publicRoutes() async throws {
        try await SystemCluster.with { bazar in
            try await bazar.contract.publicRoutes()
            try await bazar.contract.purchaseVisibleAtOnce()
            try await bazar.contract.lastCopies()
        }
    }

    @Test("every error of the contract, in its shape, at the front end and at the replicas")
    func errors() async throws {
        try await SystemCluster.with { bazar in
            try await bazar.contract.errors()
            let contract = bazar.contract
            // Internal routes want the internal token; the replicas' own routes answer in the same shapes.
            contract.expectError(try await bazar.call(.POST, bazar.url("catalog-1") + "/internal/replication/append", json: "{}"), 401, "unauthorized")
            contract.expectError(try await bazar.call(.GET, bazar.url("catalog-2") + "/books/abc"), 400, "invalid_id")
            contract.expectError(try await bazar.call(.DELETE, bazar.url("order-2") + "/orders"), 405, "method_not_allowed")
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
            #expect(exposition.value("hb_requests_total", ["http_route": "/info/{id}", "http_response_status_code": "200"]) ?? 0 >= 2)
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

            // The front end's calls, by replica and outcome: the misses went to the catalog
            // replicas, the purchase to an order replica.
            let calls = try Exposition(try await bazar.call(.GET, front + "/metrics").text)
            let answered = { (service: String) in
                calls.samples.filter { $0.name == "bazar_backend_calls_total" && $0.labels["outcome"] == "answered" && $0.labels["replica"]?.hasPrefix(service) == true }
                    .map(\.value).reduce(0, +)
            }
            #expect(answered("catalog-") >= 1 && answered("order-") >= 1)
            #expect(calls.value("bazar_backend_call_duration_seconds_count", ["replica": "catalog-1"]).map { $0 >= 0 } == true)
            // The catalog leader: one takeover, its follower's lag, and the points its reads wait for.
            let leader = try Exposition(try await bazar.call(.GET, bazar.url("catalog-1") + "/metrics").text)
            #expect(leader.value("bazar_replication_takeovers_total") == 1)
            #expect(leader.value("bazar_replication_follower_lag", ["follower": "catalog-2"]) == 0)
            #expect(leader.value("bazar_replication_follower_in_sync", ["follower": "catalog-2"]) == 1)
            #expect(leader.value("bazar_replication_shown_seq") == positions["catalog-1"])
            #expect(leader.value("bazar_replication_commit_seq") == positions["catalog-1"])
            let follower = try Exposition(try await bazar.call(.GET, bazar.url("catalog-2") + "/metrics").text)
            #expect(follower.value("bazar_replication_follower_lag", ["follower": "catalog-1"]) == nil)
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
