import BazarService
import Prometheus

/// Replication events counted in `/metrics`. All are rare (a takeover, a follower falling out of
/// step or catching up, a snapshot), so their handles are looked up when they happen; the gauges
/// (role, term, positions, each follower's lag) are read off state at each scrape instead
/// (`ReplicationRoutes.publishMetrics`).
enum ReplicationMetrics {
    static let registry = ServiceMetrics.registry

    /// Made once: a follower may forward many writes (callers that do not yet know the leader).
    static let writesForwarded = registry.counter("bazar_replication_writes_forwarded_total",
        help: "Writes this replica received as a follower and sent on to its leader (callers send writes to the replica that answered their last one, so these are few).")

    static func tookOver() {
        count("bazar_replication_takeovers_total", help: "Times this replica became the leader of its group.")
    }

    static func snapshotInstalled() {
        count("bazar_replication_snapshots_installed_total",
              help: "Times this replica replaced its state by its leader's snapshot (its log had taken another path, or lay before the leader's compacted log).")
    }

    static func snapshotSent(to follower: String) {
        count("bazar_replication_snapshots_sent_total", follower: follower, help: "Snapshots this leader sent to a follower.")
    }

    static func followerDropped(_ follower: String) {
        count("bazar_replication_followers_dropped_total", follower: follower,
              help: "Times this leader dropped a follower from the in-sync set (no answer for a lease, or behind): writes stop waiting for it.")
    }

    static func followerCaughtUp(_ follower: String) {
        count("bazar_replication_catch_ups_total", follower: follower, help: "Times a follower of this leader caught up and was counted in sync again.")
    }

    private static func count(_ name: String, follower: String? = nil, help: String) {
        registry.counter(name, labels: follower.map { [("follower", $0)] } ?? [], help: help).increment()
    }
}
