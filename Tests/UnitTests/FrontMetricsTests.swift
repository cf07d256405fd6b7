import BazarModels
@testable import FrontService
import Prometheus
import Testing

@Suite("Front-end metrics")
struct FrontMetricsTests {
    @Test("each scrape adds what the cache counted since the last one; the entries gauge follows the size")
    func deltas() async {
        let registry = PrometheusCollectorRegistry()
        let metrics = FrontMetrics(registry: registry)
        var stats = CacheStats(capacity: 10, size: 3, hits: 5, misses: 2, evictions: 0, invalidations: 1, expirations: 0, coalesced: 4)
        await metrics.publish(stats, replicas: [])
        await metrics.publish(stats, replicas: [])
        stats.hits = 8
        stats.evictions = 1
        stats.size = 1
        await metrics.publish(stats, replicas: [])
        let lines = Set(registry.emitToString().split(separator: "\n").filter { !$0.hasPrefix("#") })
        #expect(lines.isSuperset(of: [
            "bazar_cache_hits_total 8", "bazar_cache_misses_total 2", "bazar_cache_evictions_total 1",
            "bazar_cache_invalidations_total 1", "bazar_cache_expirations_total 0", "bazar_cache_coalesced_total 4",
        ]))
        #expect(lines.contains { $0.hasPrefix("bazar_cache_entries 1") })
    }

    @Test("a scrape that read older stats than the last one published counts nothing twice")
    func overlappingScrapes() async {
        let registry = PrometheusCollectorRegistry()
        let metrics = FrontMetrics(registry: registry)
        func stats(hits: Int) -> CacheStats {
            CacheStats(capacity: 10, size: 0, hits: hits, misses: 0, evictions: 0, invalidations: 0, expirations: 0, coalesced: 0)
        }
        let replicas: [(name: ReplicaName, up: Bool)] = [(ReplicaName("catalog-1")!, true), (ReplicaName("order-2")!, false)]
        await metrics.publish(stats(hits: 8), replicas: replicas)
        await metrics.publish(stats(hits: 5), replicas: replicas)  // read before the one above
        await metrics.publish(stats(hits: 9), replicas: replicas)
        let lines = Set(registry.emitToString().split(separator: "\n").filter { !$0.hasPrefix("#") })
        #expect(lines.contains("bazar_cache_hits_total 9"))
        #expect(lines.contains { $0.hasPrefix(#"bazar_replica_up{replica="catalog-1"} 1"#) })
        #expect(lines.contains { $0.hasPrefix(#"bazar_replica_up{replica="order-2"} 0"#) })
    }
}
