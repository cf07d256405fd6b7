import BazarService
import Prometheus

/// Replication events counted in `/metrics`. All are rare (a takeover, a follower falling out of
/// step or catching up, a snapshot), so their handles are looked up when they happen; the gauges
/// (role, term, positions, each follower's lag) are read off state at each scrape instead
/// (`ReplicationRoutes.publishMetrics`).
enum ReplicationMetrics {
    static let registry = ServiceMetrics.registry

    static func tookOver() {
        registry.makeCounter(name: "bazar_replication_takeovers_total", help: "Times this replica became the leader of its group.").increment()
    }

    static func snapshotInstalled() {
        registry.makeCounter(
            name: "bazar_replication_snapshots_installed_total",
            help: "Times this replica replaced its state by its leader's snapshot (its log had taken another path, or lay before the leader's compacted log)."
        ).increment()
    }

    static func snapshotSent(to follower: String) {
        registry.makeCounter(
            name: "bazar_replication_snapshots_sent_total", labels: [("follower", follower)],
            help: "Snapshots this leader sent to a follower."
        ).increment()
    }

    static func followerDropped(_ follower: String) {
        registry.makeCounter(
            name: "bazar_replication_followers_dropped_total", labels: [("follower", follower)],
            help: "Times this leader dropped a follower from the in-sync set (no answer for a lease, or behind): writes stop waiting for it."
        ).increment()
    }

    static func followerCaughtUp(_ follower: String) {
        registry.makeCounter(
            name: "bazar_replication_catch_ups_total", labels: [("follower", follower)],
            help: "Times a follower of this leader caught up and was counted in sync again."
        ).increment()
    }
}
