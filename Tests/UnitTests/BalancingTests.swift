import BazarModels
@testable import BazarService
import Hummingbird
import Testing

@Suite("Balancing policies")
struct BalancingTests {
    let replicas = [
        ReplicaEndpoint(name: ReplicaName("catalog-1")!, url: "http://127.0.0.1:1"),
        ReplicaEndpoint(name: ReplicaName("catalog-2")!, url: "http://127.0.0.1:2"),
        ReplicaEndpoint(name: ReplicaName("catalog-3")!, url: "http://127.0.0.1:3"),
    ]

    func firstChoices(_ rotation: ReplicaRotation, _ calls: Int) -> [String: Int] {
        var counts: [String: Int] = [:]
        for _ in 0..<calls { counts[rotation.turnOrder()[0].name.description, default: 0] += 1 }
        return counts
    }

    @Test("round-robin takes each replica in turn, and skips one that is down")
    func roundRobin() {
        let rotation = ReplicaRotation(replicas, policy: .roundRobin, healthChecked: true)
        for replica in replicas { rotation.markUp(replica.name) }
        #expect(firstChoices(rotation, 300) == ["catalog-1": 100, "catalog-2": 100, "catalog-3": 100])
        rotation.markDown(replicas[1].name)
        #expect(firstChoices(rotation, 300) == ["catalog-1": 150, "catalog-3": 150])
        #expect(!rotation.turnOrder().contains { $0.name == replicas[1].name })
        // With every replica down, all are tried.
        for replica in replicas { rotation.markDown(replica.name) }
        #expect(rotation.turnOrder().count == 3)
        // Without health checks, a replica marked down is still tried, last.
        let unchecked = ReplicaRotation(replicas)
        unchecked.markDown(replicas[0].name)
        #expect(unchecked.turnOrder().map(\.name).last == replicas[0].name)
    }

    @Test("random spreads evenly within chance, and never picks a replica that is down first")
    func random() {
        let rotation = ReplicaRotation(replicas, policy: .random)
        let counts = firstChoices(rotation, 3000)
        // Each share is binomial (n 3000, p 1/3): sd ≈ 26, so 1000 ± 200 fails about once in 10^14.
        #expect(counts.values.allSatisfy { (800...1200).contains($0) }, "\(counts)")
        rotation.markDown(replicas[0].name)
        #expect(firstChoices(rotation, 300)["catalog-1"] == nil)
    }

    @Test("least-latency prefers the fastest replica and still probes the others")
    func leastLatency() {
        let rotation = ReplicaRotation(replicas, policy: .leastLatency, probeShare: 0.05)
        rotation.responseTimes.record(replicas[0].name, .milliseconds(20))
        rotation.responseTimes.record(replicas[1].name, .milliseconds(2))
        rotation.responseTimes.record(replicas[2].name, .milliseconds(40))
        let counts = firstChoices(rotation, 4000)
        // 95% to catalog-2, 5% probes split over the other two (about 100 each).
        #expect((3650...3950).contains(counts["catalog-2"] ?? 0), "\(counts)")
        #expect((counts["catalog-1"] ?? 0) > 20 && (counts["catalog-3"] ?? 0) > 20, "\(counts)")
        // A recovered replica wins back the load once probes have measured it.
        for _ in 0..<30 { rotation.responseTimes.record(replicas[0].name, .milliseconds(1)) }
        #expect((firstChoices(rotation, 1000)["catalog-1"] ?? 0) > 900)
    }

    @Test("the moving average follows a step change within a few samples")
    func movingAverage() {
        let times = ResponseTimes(smoothing: 0.2)
        let name = ReplicaName("order-1")!
        #expect(times.average(name) == nil)
        times.record(name, .milliseconds(10))
        #expect(times.average(name) == 10)
        for _ in 0..<20 { times.record(name, .milliseconds(100)) }
        #expect(abs((times.average(name) ?? 0) - 100) < 2)
    }

    @Test("a write goes first to the replica that made the last one; reads keep the policy's order")
    func writesToLastWriter() async throws {
        let rotation = ReplicaRotation(replicas, policy: .roundRobin, healthChecked: true)
        for replica in replicas { rotation.markUp(replica.name) }
        // A follower (catalog-1 comes first in the turn) forwards the write; the answer names catalog-3.
        let (_, first) = try await rotation.call(service: "catalog", deadline: .seconds(1), perAttempt: .seconds(1), write: true) { _, _ in
            BackendClient.Reply(status: 200, headers: ["X-Served-By": "catalog-3"], body: ByteBuffer())
        }
        #expect(first.name.description == "catalog-1")
        for _ in 0..<6 { #expect(rotation.turnOrder(write: true).first?.name.description == "catalog-3") }
        #expect(Set((0..<6).map { _ in rotation.turnOrder().first!.name.description }).count == 3)
        // A hint for a replica that is down gives way; an answer naming no replica of this service changes nothing.
        rotation.markDown(replicas[2].name)
        #expect(rotation.turnOrder(write: true).first?.name.description != "catalog-3")
        rotation.markUp(replicas[2].name)
        _ = try await rotation.call(service: "catalog", deadline: .seconds(1), perAttempt: .seconds(1), write: true) { _, _ in
            BackendClient.Reply(status: 409, headers: ["X-Served-By": "order-1"], body: ByteBuffer())
        }
        #expect(rotation.turnOrder(write: true).first?.name.description == "catalog-3")
        // Without health checks a replica marked down is tried last, hint or not, except that the
        // hint sends one write to it first once per retry interval (nothing else would mark it up).
        let retry = Duration.seconds(1)
        let unchecked = ReplicaRotation(replicas, downWriterRetry: retry)
        _ = try await unchecked.call(service: "catalog", deadline: .seconds(1), perAttempt: .seconds(1), write: true) { _, _ in
            BackendClient.Reply(status: 200, headers: ["X-Served-By": "catalog-2"], body: ByteBuffer())
        }
        #expect(unchecked.turnOrder(write: true).first?.name.description == "catalog-2")
        let markedDown = ContinuousClock.now
        unchecked.markDown(replicas[1].name)
        let soon = unchecked.turnOrder(write: true).last?.name.description
        if ContinuousClock.now - markedDown < retry { #expect(soon == "catalog-2") }
        try await Task.sleep(for: retry)
        #expect(unchecked.turnOrder(write: true).first?.name.description == "catalog-2")
        #expect(unchecked.turnOrder(write: true).last?.name.description == "catalog-2", "once per interval")
    }
}
