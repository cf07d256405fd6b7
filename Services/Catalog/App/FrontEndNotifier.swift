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

    var headers: [(String, String)] { tokens.internalAuthorization.map { [("Authorization", $0)] } ?? [] }

    func bookChanged(_ book: Book) async {
        await withDiscardingTaskGroup { group in
            for front in frontEnds {
                group.addTask { await tell(front, book) }
            }
        }
    }

    /// Retries until the front end has the invalidation, or until a lease has passed.
    func tell(_ front: String, _ book: Book) async {
        let giveUp = ContinuousClock.now + lease
        while ContinuousClock.now < giveUp {
            let notice = CacheInvalidation(bookID: book.id, topic: book.topic, version: book.version, sentAt: ReplicationBatch.now())
            if let body = try? JSONResponse.encode(notice),
               let reply = try? await client.send(.POST, front + "/internal/cache/invalidate", body: body, headers: headers,
                                                  timeout: min(lease / 2, giveUp - .now)),
               reply.isSuccess {
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.warning("front end unreachable for a whole lease: answering without its invalidation", metadata: [
            "front": "\(front)", "book": "\(book.id)",
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
