import BazarModels
import BazarReplication
import BazarService
import Logging
import ServiceLifecycle

/// The catalog leader's word to the front ends. Heartbeats give each front end a cache lease;
/// before a write is answered, every front end is told to drop the book's entries (with the
/// book's new version). A front end that cannot be told within a lease has stopped serving from
/// its cache by then, so the write may be answered anyway (G3).
struct FrontEndNotifier: Service {
    let frontEnds: [String]
    let client: BackendClient
    let tokens: AccessTokens
    let group: ReplicaGroup
    let lease: Duration
    let heartbeat: Duration
    let logger: Logger

    var headers: [(String, String)] { [("Authorization", tokens.internalAuthorization)] }

    /// Books changed and not yet delivered, batched while a delivery is under way.
    let batches = InvalidationBatches()

    /// Returns once every front end has dropped `book`'s entries (or a lease has passed).
    func bookChanged(_ book: Book) async {
        guard case .send(let books, let since) = await batches.join(book) else { return }
        await withDiscardingTaskGroup { group in
            for front in frontEnds {
                group.addTask { await tell(front, books, giveUp: since + lease) }
            }
        }
        await batches.delivered()
    }

    /// Retries until the front end has the invalidations, or until `giveUp` (a lease after the
    /// first of their writers asked).
    func tell(_ front: String, _ books: [Book], giveUp: ContinuousClock.Instant) async {
        while ContinuousClock.now < giveUp {
            let sentAt = ReplicationBatch.now()
            let notice = CacheInvalidationBatch(items: books.map {
                CacheInvalidation(bookID: $0.id, topic: $0.topic, version: $0.version, sentAt: sentAt)
            })
            if let body = try? JSONResponse.encode(notice),
               let reply = try? await client.send(.POST, front + "/internal/cache/invalidate", body: body, headers: headers,
                                                  timeout: min(lease / 2, giveUp - .now)),
               reply.isSuccess {
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.warning("front end unreachable for a whole lease: answering without its invalidation", metadata: [
            "front": "\(front)", "books": "\(books.map(\.id))",
        ])
    }

    /// While this replica leads, renews every front end's cache lease.
    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if await group.isLeader {
                    let renewal = CacheLease(leader: group.me.description, sentAt: ReplicationBatch.now(), leaseMs: lease.milliseconds)
                    if let body = try? JSONResponse.encode(renewal) {
                        await withDiscardingTaskGroup { tasks in
                            for front in frontEnds {
                                tasks.addTask {
                                    _ = try? await client.send(.POST, front + "/internal/cache/lease", body: body, headers: headers, timeout: heartbeat)
                                }
                            }
                        }
                    }
                }
                try? await Task.sleep(for: heartbeat)
            }
        }
    }
}
