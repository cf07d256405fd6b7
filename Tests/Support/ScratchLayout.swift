import BazarCluster
import BazarService
import Foundation

extension ClusterLayout {
    /// A layout of `topology`'s replica counts on free loopback ports, with its data in a new
    /// temporary directory: for tests and benchmarks that run beside anything else. `frontEnds`
    /// front ends, each on a port of its own.
    public static func scratch(binDirectory: URL, label: String, topology: LocalTopology = .standard, frontEnds: Int = 1) -> ClusterLayout {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-\(label)-\(UUID().uuidString.prefix(8))")
        var layout = ClusterLayout(topology: topology, dataDirectory: data, binDirectory: binDirectory)
        layout.frontPort = FreePort.next()
        layout.moreFrontPorts = (1..<max(1, frontEnds)).map { _ in FreePort.next() }
        layout.catalogPorts = topology.catalogPorts.map { _ in FreePort.next() }
        layout.orderPorts = topology.orderPorts.map { _ in FreePort.next() }
        return layout
    }
}
