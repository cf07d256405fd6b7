import BazarModels
import BazarService
import Logging
import NIOCore
import ServiceLifecycle

/// Keeps this front end subscribed to the catalog leader's changes, renewed every health
/// interval, so that any number of front ends can come and go without the catalog being told of
/// them. It asks the replica that granted last; when that one does not grant, every catalog
/// replica at once (only the leader grants). Without a grant the cache's lease runs out and the
/// front end serves every read from the replicas.
struct CatalogSubscription: Service {
    let catalogs: [ReplicaEndpoint]
    let client: BackendClient
    let tokens: AccessTokens
    let cache: ReadCache
    /// What the leader calls back: `url` when set, else the address it sees and `port`.
    let port: Int
    let url: String?
    let interval: Duration
    let lease: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var granter: ReplicaEndpoint?
            while !Task.isCancelled {
                granter = await renew(preferring: granter)
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One renewal: the replica that granted it, if one did.
    func renew(preferring granter: ReplicaEndpoint?) async -> ReplicaEndpoint? {
        let askedAt = ContinuousClock.now
        guard let body = try? JSONResponse.encode(FrontEndSubscription(port: port, url: url, sentAt: ReplicationBatch.now())) else { return nil }
        if let granter, let grant = await ask(granter, body) {
            await cache.subscribed(grant, askedAt: askedAt)
            return granter
        }
        let answer = await withTaskGroup(of: (ReplicaEndpoint, SubscriptionGrant)?.self) { group -> (ReplicaEndpoint, SubscriptionGrant)? in
            for replica in catalogs where replica != granter {
                group.addTask { await ask(replica, body).map { (replica, $0) } }
            }
            for await answer in group {
                if let answer {
                    group.cancelAll()
                    return answer
                }
            }
            return nil
        }
        guard let (replica, grant) = answer else { return nil }
        if replica != granter {
            logger.info("subscribed to the catalog leader", metadata: [
                "leader": "\(grant.leader)", "term": "\(grant.term)", "subscription": "\(grant.subscription)",
            ])
        }
        await cache.subscribed(grant, askedAt: askedAt)
        return replica
    }

    /// The replica's grant; nil when it does not lead or does not answer within half a lease.
    func ask(_ replica: ReplicaEndpoint, _ body: ByteBuffer) async -> SubscriptionGrant? {
        guard let reply = try? await client.send(
            .POST, replica.url + "/internal/subscriptions", body: body,
            headers: [("Authorization", tokens.internalAuthorization)], timeout: lease / 2),
            reply.isSuccess else { return nil }
        return try? reply.decode(SubscriptionGrant.self)
    }
}
