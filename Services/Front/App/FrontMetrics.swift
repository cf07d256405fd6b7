import BazarModels
import BazarService
import Prometheus

/// The front end's own series in `/metrics`: the read cache's counters, brought up to date from
/// its `CacheStats` at each scrape (so the hot path only bumps the integers the cache keeps
/// anyway), and which replicas the health checks count up.
actor FrontMetrics {
    private let registry: PrometheusCollectorRegistry
    private let counters: [(count: @Sendable (CacheStats) -> Int, counter: Counter)]
    private let entries: Gauge
    /// Per counter, the highest count published. Scrapes can overlap; one that read the stats
    /// earlier must not move a counter back, or the next scrape would add that stretch twice.
    private var published: [Int]

    init(registry: PrometheusCollectorRegistry = ServiceMetrics.registry) {
        let counted: [(String, String, @Sendable (CacheStats) -> Int)] = [
            ("hits", "reads answered from the cache", { $0.hits }),
            ("misses", "reads that went to a catalog replica", { $0.misses }),
            ("evictions", "entries dropped to stay within capacity", { $0.evictions }),
            ("invalidations", "invalidations received from the catalog leader", { $0.invalidations }),
            ("expirations", "entries dropped because their time to live had passed", { $0.expirations }),
            ("coalesced", "misses that joined a fill already in flight", { $0.coalesced }),
        ]
        self.registry = registry
        counters = counted.map { name, help, count in
            (count, registry.counter("bazar_cache_\(name)_total", help: "Front-end cache: \(help)."))
        }
        entries = registry.gauge("bazar_cache_entries", help: "Front-end cache: entries held now.")
        published = Array(repeating: 0, count: counted.count)
    }

    func publish(_ stats: CacheStats, replicas: [(name: ReplicaName, up: Bool)]) {
        for (i, (count, counter)) in counters.enumerated() where count(stats) > published[i] {
            counter.increment(by: Int64(count(stats) - published[i]))
            published[i] = count(stats)
        }
        entries.set(Int64(stats.size))
        for (name, up) in replicas {
            registry.gauge("bazar_replica_up", labels: [("replica", name.description)],
                help: "1 while the front end's health checks find the replica ready, else 0."
            ).set(to: up ? 1 : 0)
        }
    }
}
