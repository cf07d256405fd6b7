import BazarCluster
import BazarModels
import BazarService
import Foundation
import Testing

/// The replica count is a setting: one replica of each service (no replication) and three of
/// each run the same system, and every replica ends up holding every write.
@Suite("System: replica counts", .serialized)
struct ReplicaCountTests {
    static let topologies = [LocalTopology(catalogReplicas: 1, orderReplicas: 1), LocalTopology(catalogReplicas: 3, orderReplicas: 3)]

    @Test("purchases, a restock and reads with N catalog and M order replicas", arguments: topologies)
    func replicaCount(topology: LocalTopology) async throws {
        try await SystemCluster.with(topology: topology) { bazar in
            #expect(bazar.replicas(of: "catalog").count == topology.catalogReplicas)
            #expect(bazar.replicas(of: "order").count == topology.orderReplicas)
            let before = try await bazar.call(.GET, bazar.front + "/info/3").decode(BookInfo.self).quantity
            for _ in 0..<3 {
                #expect(try await bazar.call(.POST, bazar.front + "/purchase/3").status == 200)
            }
            #expect(try await bazar.call(.POST, bazar.front + "/books/3/restock", json: #"{"count": 5}"#, admin: true).status == 200)
            #expect(try await bazar.call(.GET, bazar.front + "/info/3").decode(BookInfo.self).quantity == before - 3 + 5)
            // Writes are acknowledged once every in-sync replica holds them: each one shows them.
            for replica in bazar.replicas(of: "catalog") {
                #expect(try await bazar.book(at: replica, 3).quantity == before - 3 + 5, "\(replica)")
            }
            for replica in bazar.replicas(of: "order") {
                #expect(try await bazar.orders(at: replica).filter { $0.bookID == 3 }.count == 3, "\(replica)")
            }
        }
    }
}

extension LocalTopology: CustomTestStringConvertible {
    public var testDescription: String { "\(catalogReplicas) catalog + \(orderReplicas) order replicas" }
}
