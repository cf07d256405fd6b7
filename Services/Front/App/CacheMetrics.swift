import BazarModels
import BazarService
import Prometheus

/// The read cache's counters in `/metrics`, brought up to date from its `CacheStats` at each
/// scrape, so that the hot path only bumps the plain integers the cache keeps anyway.
actor CacheMetrics {
    private let counters: [(count: @Sendable (CacheStats) -> Int, counter: Counter)]
    private let entries: Gauge
    private var published: CacheStats?

    init(registry: PrometheusCollectorRegistry = ServiceMetrics.registry) {
        let counted: [(String, String, @Sendable (CacheStats) -> Int)] = [
            ("hits", "reads answered from the cache", { $0.hits }),
            ("misses", "reads that went to a catalog replica", { $0.misses }),
            ("evictions", "entries dropped to stay within capacity", { $0.evictions }),
            ("invalidations", "invalidations received from the catalog leader", { $0.invalidations }),
            ("expirations", "entries dropped because their time to live had passed", { $0.expirations }),
            ("coalesced", "misses that joined a fill already in flight", { $0.coalesced }),
        ]
        counters = counted.map { name, help, count in
            (count, registry.makeCounter(name: "bazar_cache_\(name)_total", help: "Front-end cache: \(help)."))
        }
        entries = registry.makeGauge(name: "bazar_cache_entries", help: "Front-end cache: entries held now.")
    }

    func publish(_ stats: CacheStats) {
        for (count, counter) in counters {
            let added = count(stats) - (published.map(count) ?? 0)
            if added > 0 { counter.increment(by: Int64(added)) }
        }
        entries.set(Int64(stats.size))
        published = stats
    }
}
