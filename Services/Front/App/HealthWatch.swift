import BazarModels
import BazarService
import Logging
import Prometheus
import ServiceLifecycle

/// Active health checks: asks every back-end replica for its `/replication/status` a few times
/// a second, moves replicas in and out of rotation (in rotation while it may serve reads, what
/// its `/ready` says; calls that find a replica unreachable move it out at once), and keeps what
/// it found on the board of `/status`. (Losing the catalog leader empties the cache through the
/// cache's own lease, not here.)
struct HealthWatch: Service {
    let catalogs: ReplicaRotation
    let orders: ReplicaRotation
    let board: ReplicaBoard
    let client: BackendClient
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await watch() }
    }

    private func watch() async throws {
        do {
            while !Task.isCancelled {
                async let catalogsChecked: Void = check(catalogs)
                async let ordersChecked: Void = check(orders)
                _ = await (catalogsChecked, ordersChecked)
                try await Task.sleep(for: interval)
            }
        } catch is CancellationError {}
    }

    /// Probes every replica of a rotation.
    func check(_ rotation: ReplicaRotation) async {
        await withTaskGroup(of: (ReplicaName, ReplicationStatus?).self) { group in
            for replica in rotation.replicas {
                group.addTask {
                    let reply = try? await client.send(.GET, replica.url + "/replication/status", timeout: interval * 2)
                    return (replica.name, reply.flatMap { $0.isSuccess ? try? $0.decode(ReplicationStatus.self) : nil })
                }
            }
            for await (name, status) in group {
                await board.record(name, status)
                let wasUp = rotation.isUp(name)
                if status?.inSync == true {
                    rotation.markUp(name)
                    if !wasUp { logger.info("replica back in rotation", metadata: ["replica": "\(name)"]) }
                } else {
                    rotation.markDown(name)
                    if wasUp {
                        Self.ejections(of: name).increment()
                        logger.info("replica out of rotation", metadata: [
                            "replica": "\(name)", "reason": "\(status == nil ? "no answer" : "catching up or without a leader")",
                        ])
                    }
                }
            }
        }
    }
}

extension HealthWatch {
    /// `bazar_front_ejections_total{replica}`: times a health check took the replica out of rotation.
    static func ejections(of name: ReplicaName) -> Prometheus.Counter {
        ServiceMetrics.registry.counter(
            "bazar_front_ejections_total", labels: [("replica", name.description)],
            help: "Times the front end's health checks took the replica out of rotation.")
    }
}
