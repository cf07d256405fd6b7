import BazarModels
import BazarReplication
import BazarService
import Testing

/// The local topology: names and consecutive ports for any replica counts, and a replica's
/// default port from its own entry in the peer list.
@Suite("Local topology")
struct LocalTopologyTests {
    @Test("the standard topology is the contract's 8080 to 8084")
    func standard() throws {
        let topology = try LocalTopology.standard.validated()
        #expect(topology.frontEndURL == "http://127.0.0.1:8080")
        #expect(topology.catalogPorts == [8081, 8082])
        #expect(topology.orderPorts == [8083, 8084])
        #expect(topology.replicaList("order") == "order-1=http://127.0.0.1:8083,order-2=http://127.0.0.1:8084")
    }

    @Test("three and three from 9080: catalogs after the front end, orders after the last catalog")
    func threeAndThree() throws {
        let topology = try LocalTopology(frontPort: 9080, catalogReplicas: 3, orderReplicas: 3).validated()
        #expect(topology.catalogPorts == [9081, 9082, 9083])
        #expect(topology.orderPorts == [9084, 9085, 9086])
        #expect(topology.port(of: ReplicaName(service: "order", number: 3)) == 9086)
    }

    @Test("counts outside 1 to 7 are refused, naming the setting", arguments: [(0, 2, "BAZAR_CATALOG_REPLICAS"), (2, 8, "BAZAR_ORDER_REPLICAS")])
    func refused(catalogs: Int, orders: Int, setting: String) {
        #expect {
            try LocalTopology(catalogReplicas: catalogs, orderReplicas: orders).validated()
        } throws: { error in
            (error as? ConfigurationError)?.description.hasPrefix(setting) == true
        }
    }

    @Test("a replica listens where its own entry in the peer list says, path or not")
    func defaultPortFromPeers() throws {
        let listed = try ReplicaOptions.parse(["--name", "catalog-3", "--peers", "catalog-1=http://a:9081,catalog-2=http://b:9082/,catalog-3=http://c:9183/bazar"])
        #expect(try listed.resolve(service: "catalog").defaultPort == 9183)
        let standard = try ReplicaOptions.parse(["--name", "catalog-2"])
        #expect(try standard.resolve(service: "catalog").defaultPort == 8082)
    }
}
