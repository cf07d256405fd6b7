import BazarModels
import BazarService
import Logging
import ServiceLifecycle

/// Active health checks: asks every back-end replica's `/ready` a few times a second and moves
/// replicas in and out of rotation (calls that find a replica unreachable move it out at once).
/// When no catalog replica has answered for longer than the lease, the cache may hold what a
/// leader changed meanwhile without reaching us, so it is emptied.
struct HealthWatch: Service {
    let catalogs: ReplicaRotation
    let orders: ReplicaRotation
    let cache: ReadCache
    let client: BackendClient
    let interval: Duration
    let lease: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await watch() }
    }

    private func watch() async throws {
        var lastCatalogContact = ContinuousClock.now
        var cacheEmptied = false
        do {
            while !Task.isCancelled {
                async let catalogUp = check(catalogs)
                async let orderUp = check(orders)
                if await catalogUp {
                    lastCatalogContact = .now
                    cacheEmptied = false
                } else if !cacheEmptied, ContinuousClock.now - lastCatalogContact > lease {
                    await cache.removeAll()
                    cacheEmptied = true
                    logger.warning("no catalog replica answered for longer than the lease: cache emptied")
                }
                _ = await orderUp
                try await Task.sleep(for: interval)
            }
        } catch is CancellationError {}
    }

    /// Probes every replica of a rotation; returns whether any answered at all.
    func check(_ rotation: ReplicaRotation) async -> Bool {
        await withTaskGroup(of: (ReplicaName, Int?).self) { group in
            for replica in rotation.replicas {
                group.addTask {
                    let reply = try? await client.send(.GET, replica.url + "/ready", timeout: interval * 2)
                    return (replica.name, reply?.status)
                }
            }
            var anyAnswer = false
            for await (name, status) in group {
                anyAnswer = anyAnswer || status != nil
                let wasUp = rotation.isUp(name)
                if status == 200 {
                    rotation.markUp(name)
                    if !wasUp { logger.info("replica back in rotation", metadata: ["replica": "\(name)"]) }
                } else {
                    rotation.markDown(name)
                    if wasUp { logger.info("replica out of rotation", metadata: ["replica": "\(name)", "status": "\(status.map(String.init) ?? "no answer")"]) }
                }
            }
            return anyAnswer
        }
    }
}
