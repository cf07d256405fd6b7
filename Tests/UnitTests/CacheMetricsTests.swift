import BazarModels
@testable import FrontService
import Prometheus
import Testing

@Suite("Cache metrics")
struct CacheMetricsTests {
    @Test("each scrape adds what the cache counted since the last one; the entries gauge follows the size")
    func deltas() async {
        let registry = PrometheusCollectorRegistry()
        let metrics = CacheMetrics(registry: registry)
        var stats = CacheStats(capacity: 10, size: 3, hits: 5, misses: 2, evictions: 0, invalidations: 1, expirations: 0, coalesced: 4)
        await metrics.publish(stats)
        await metrics.publish(stats)
        stats.hits = 8
        stats.evictions = 1
        stats.size = 1
        await metrics.publish(stats)
        let lines = Set(registry.emitToString().split(separator: "\n").filter { !$0.hasPrefix("#") })
        #expect(lines.isSuperset(of: [
            "bazar_cache_hits_total 8", "bazar_cache_misses_total 2", "bazar_cache_evictions_total 1",
            "bazar_cache_invalidations_total 1", "bazar_cache_expirations_total 0", "bazar_cache_coalesced_total 4",
        ]))
        #expect(lines.contains { $0.hasPrefix("bazar_cache_entries 1") })
    }
}
