import BazarCluster
import BazarHarness
import BazarModels
import BazarReplication
import BazarService
import BazarTestSupport
import Foundation
import Testing

/// Faults of the network itself: every member in a network namespace of its own, links cut by
/// dropping packets, as a real partition does.
@Suite("System: network partitions", .serialized, .enabled(if: NetworkLab.isAvailable, "needs root, ip netns and iptables"))
struct NetworkFaultTests {
    /// The pair rules' known limit, shown through a real partition: a follower cut off from its
    /// leader cannot tell it from a crash, so each side of a two-replica catalog leads while the
    /// link is down; once it heals one leader remains and the replicas converge. (Three replicas
    /// follow the majority rules instead: the next test.)
    @Test("a cut between the two catalog replicas: both lead while it lasts, one after the heal, then equal")
    func pairPartition() async throws {
        try await Self.inNetworkLab(.standard) { bazar, lab in
            #expect(try await bazar.call(.POST, bazar.front + "/purchase/2").status == 200)
            try await lab.partition("catalog-1", "catalog-2")
            try await bazar.waitUntil("both catalog replicas lead, each on its side of the cut", within: Self.patience) {
                try await bazar.roles(of: "catalog").values.allSatisfy { $0.role == .leader }
            }
            try await lab.heal()
            try await bazar.waitUntil("one catalog leader again, followed by the other", within: Self.patience) {
                let roles = try await bazar.roles(of: "catalog")
                return roles.values.filter { $0.role == .leader }.count == 1 && Set(roles.values.map(\.leader)).count == 1
            }
            #expect(try await bazar.call(.POST, bazar.front + "/purchase/2").status == 200)
            let final = try await FinalStates.converged(layout: bazar.layout, client: SystemCluster.client, within: Self.patience, since: .now)
            #expect(final.catalogs["catalog-1"] == final.catalogs["catalog-2"])
        }
    }

    /// The majority rules through a real partition: the leader of three replicas, cut off from its
    /// two peers (the front end and the other service still reach it), acknowledges nothing and
    /// stops serving; the other two elect a leader in a newer term and go on selling; after the
    /// heal the three agree, and every acknowledged purchase took exactly one copy and made exactly
    /// one order.
    @Test("three replicas, the leader cut off from its peers: the majority goes on, nothing acknowledged is lost",
          arguments: ["catalog", "order"])
    func majorityPartition(service: String) async throws {
        try await Self.inNetworkLab(LocalTopology(catalogReplicas: 3, orderReplicas: 3)) { bazar, lab in
            // Stock no run of the loop below can sell out, however fast the machine: an out-of-stock
            // answer then means copies were lost.
            let stock = 100_000
            try await bazar.setStock(1, stock)
            let before = try await bazar.roles(of: service)
            let (old, oldStatus) = try #require(before.first { $0.value.role == .leader })
            let peers = bazar.replicas(of: service).filter { $0 != old }
            try await lab.isolate(old, from: peers)
            let cut = ContinuousClock.now
            // Purchases all along: each with its key, repeated with it until it has an answer.
            var acknowledged = 0, refused = 0
            while ContinuousClock.now - cut < Self.settings.electionTimeout * 4 {
                let key = "partition-\(UUID().uuidString)"
                for _ in 0..<20 {
                    let status = try await bazar.call(.POST, bazar.front + "/purchase/1", headers: [("Idempotency-Key", key)]).status
                    if status == 200 { acknowledged += 1; break }
                    if status == 409 { refused += 1; break }
                }
            }
            let during = try await bazar.roles(of: service)
            let newLeaders = during.filter { $0.key != old && $0.value.role == .leader }
            #expect(newLeaders.count == 1, "one leader among \(peers): \(during)")
            #expect(newLeaders.values.allSatisfy { $0.term > oldStatus.term })
            #expect(during[old].map { !$0.inSync } ?? true, "the cut-off leader must not serve: \(during[old].map { "\($0)" } ?? "no answer")")
            #expect(acknowledged > 0, "the majority side sold nothing")
            try await lab.heal()
            try await bazar.waitUntil("one \(service) leader, followed by all three", within: Self.patience) {
                let roles = try await bazar.roles(of: service)
                return roles.count == 3 && roles.values.filter { $0.role == .leader }.count == 1 && Set(roles.values.map(\.leader)).count == 1
            }
            let final = try await FinalStates.converged(layout: bazar.layout, client: SystemCluster.client, within: Self.patience, since: .now)
            let books = bazar.replicas(of: "catalog").map { final.catalogs[$0] ?? [] }
            #expect(Set(books.map { $0.map(\.quantity) }).count == 1, "catalog replicas differ: \(books)")
            #expect(books.first?.first { $0.id == 1 }?.quantity == stock - acknowledged, "\(acknowledged) purchases acknowledged")
            for replica in bazar.replicas(of: "order") {
                #expect(final.orders[replica]?.filter { $0.bookID == 1 }.count == acknowledged, "\(replica): \(acknowledged) purchases acknowledged")
            }
            #expect(refused == 0, "\(refused) purchases answered out of stock after \(acknowledged) acknowledged")
        }
    }
}

extension NetworkFaultTests {
    static let settings = Replicator.Settings()
    static let patience = SystemCluster.failoverPatience

    /// A cluster of `topology` (SQLite) with every member in a namespace of its own.
    static func inNetworkLab(_ topology: LocalTopology, _ body: @Sendable (SystemCluster, NetworkLab) async throws -> Void) async throws {
        var layout = try SystemCluster.makeLayout(.sqlite, topology: topology)
        let lab = try await NetworkLab.create(members: layout.members.map(\.name))
        lab.apply(to: &layout)
        do {
            try await SystemCluster.with(layout: layout) { bazar in try await body(bazar, lab) }
        } catch {
            await lab.destroy()
            throw error
        }
        await lab.destroy()
    }
}

extension SystemCluster {
    /// Each replica's replication status, by name (a replica that does not answer is left out).
    func roles(of service: String) async throws -> [String: ReplicationStatus] {
        var roles: [String: ReplicationStatus] = [:]
        for replica in replicas(of: service) {
            if let reply = try? await Self.client.send(.GET, url(replica) + "/replication/status", timeout: .seconds(1)),
               let status = try? reply.decode(ReplicationStatus.self) {
                roles[replica] = status
            }
        }
        return roles
    }
}
