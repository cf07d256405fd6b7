import BazarModels
import BazarService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every back-end replica as the health checks last found it (`/replication/status`), and the
/// leader changes they saw: the replica half of `GET /status`.
actor ReplicaBoard {
    private struct Seen {
        var status: ReplicationStatus?
        var at: Date?
    }

    let replicas: [ReplicaEndpoint]
    private var seen: [ReplicaName: Seen] = [:]
    /// Per service, the leader in the highest term seen so far.
    private var leaders: [String: (name: String, term: Int64)] = [:]
    private var changes: [LeaderChange] = []

    init(replicas: [ReplicaEndpoint]) {
        self.replicas = replicas
    }

    /// A health check's finding: the replica's status, or nil when it did not answer.
    func record(_ name: ReplicaName, _ status: ReplicationStatus?) {
        guard let status else {
            seen[name, default: Seen()].status = nil
            return
        }
        seen[name] = Seen(status: status, at: Date())
        guard status.role == .leader else { return }
        // A deposed leader that has not heard of its successor still says it leads, in an older
        // term: only a higher term is a change.
        if let current = leaders[name.service], current.term >= status.term { return }
        leaders[name.service] = (status.replica, status.term)
        changes.append(LeaderChange(at: Date(), service: name.service, leader: status.replica, term: status.term))
        if changes.count > LeaderChange.kept { changes.removeFirst(changes.count - LeaderChange.kept) }
    }

    /// Each replica and the leader changes, in one hop (what `/status` shows).
    func snapshot() -> (replicas: [ReplicaView], changes: [LeaderChange]) {
        (views(), changes)
    }

    /// Each replica, with its lag behind the leader of its service that the checks last reached.
    func views() -> [ReplicaView] {
        var leaderSeq: [String: Int64] = [:]
        for replica in replicas {
            guard let status = seen[replica.name]?.status, status.role == .leader,
                  status.term >= (leaders[replica.name.service]?.term ?? 0) else { continue }
            leaderSeq[replica.name.service] = status.lastSeq
        }
        return replicas.map { replica in
            let found = seen[replica.name]
            let status = found?.status
            return ReplicaView(
                name: replica.name.description, service: replica.name.service, url: replica.url,
                role: status.map { $0.role == .leader ? .leader : .follower } ?? .unreachable,
                term: status?.term, lastSeq: status?.lastSeq,
                lag: status.flatMap { status in leaderSeq[replica.name.service].map { max(0, $0 - status.lastSeq) } },
                ready: status?.inSync ?? false, healthy: status != nil, lastSeen: found?.at)
        }
    }
}
