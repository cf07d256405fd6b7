import BazarModels
import BazarService
import Logging
import ServiceLifecycle

/// Active health checks: asks every back-end replica's `/ready` a few times a second and moves
/// replicas in and out of rotation (calls that find a replica unreachable move it out at once).
/// (Losing the catalog leader empties the cache through the cache's own lease, not here.)
struct HealthWatch: Service {
    let catalogs: ReplicaRotation
    let orders: ReplicaRotation
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
        await withTaskGroup(of: (ReplicaName, Int?).self) { group in
            for replica in rotation.replicas {
                group.addTask {
                    let reply = try? await client.send(.GET, replica.url + "/ready", timeout: interval * 2)
                    return (replica.name, reply?.status)
                }
            }
            for await (name, status) in group {
                let wasUp = rotation.isUp(name)
                if status == 200 {
                    rotation.markUp(name)
                    if !wasUp { logger.info("replica back in rotation", metadata: ["replica": "\(name)"]) }
                } else {
                    rotation.markDown(name)
                    if wasUp { logger.info("replica out of rotation", metadata: ["replica": "\(name)", "status": "\(status.map(String.init) ?? "no answer")"]) }
                }
            }
        }
    }
}
