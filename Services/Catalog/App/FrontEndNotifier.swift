import BazarModels
import BazarReplication
import BazarService
import Logging
import NIOCore

/// The catalog leader's word to the front ends (G3 for every front end, however many come and go).
///
/// Front ends subscribe, and renew within a lease; while this replica leads with its quorum's
/// confirmation, it grants them a lease to serve from their caches. Before a write is answered,
/// every front end subscribed is told to drop the book's entries (with its new version), or its
/// subscription is cut and has lapsed; only then does the replicator's shown point pass the write,
/// and no answer, read or write, shows it before. A new leader's shown point stays where it was
/// for a lease after it took over: by then every lease an earlier leader granted has run out (that
/// leader granted only while its quorum confirmed it, which ends before anyone votes for another).
struct FrontEndNotifier {
    let client: BackendClient
    let tokens: AccessTokens
    let group: ReplicaGroup
    let replicator: Replicator
    let lease: Duration
    let logger: Logger

    var headers: [(String, String)] { [("Authorization", tokens.internalAuthorization)] }

    let subscribers = FrontEndSubscribers()
    /// Books changed and not yet delivered, batched while a delivery is under way.
    let batches = InvalidationBatches()

    /// A front end's renewal: the grant, or 503 when this replica cannot grant one (it does not
    /// lead, or its quorum has not confirmed it within the lease).
    func subscribe(_ url: String, sentAt: ContinuousClock.Instant) async throws -> SubscriptionGrant {
        let term = try await leadingTerm()
        let subscriber = await subscribers.renew(url, term: term, sentAt: sentAt, lease: lease)
        if !subscriber.admitted {
            await batches.settled()
            // It waited: this replica may have stopped leading meanwhile.
            guard try await leadingTerm() == term else { throw Self.notLeading(await group.leader) }
            await subscribers.admit(subscriber)
            logger.info("front end subscribed", metadata: ["front": "\(url)", "term": "\(term)", "subscription": "\(subscriber.number)"])
        }
        return SubscriptionGrant(leader: group.me.description, term: term, subscription: subscriber.number, leaseMs: lease.milliseconds)
    }

    private func leadingTerm() async throws -> Int64 {
        let term = await group.term
        guard await group.isLeader, await replicator.canServeReads() else { throw Self.notLeading(await group.leader) }
        return term
    }

    static func notLeading(_ leader: ReplicaName?) -> APIError {
        .unavailable("Not the catalog leader with a confirmed lease" + (leader.map { "; the leader is \($0)." } ?? "."))
    }

    /// Returns once every subscribed front end has dropped `book`'s entries (or stopped serving
    /// from its cache).
    func bookChanged(_ book: Book) async {
        if case .send(let books, let since) = await batches.join(book) {
            let notice = try? JSONResponse.encode(CacheInvalidationBatch(items: books.map {
                CacheInvalidation(bookID: $0.id, topic: $0.topic, version: $0.version)
            }))
            await withDiscardingTaskGroup { group in
                for subscriber in await subscribers.live() {
                    group.addTask { await tell(subscriber, notice, books: books, giveUp: since + lease) }
                }
            }
            await batches.delivered()
        }
    }

    /// Retries until the front end has the invalidations or its subscription lapses; at `giveUp`
    /// (a lease after the first of their writers asked) cuts the subscription and waits it out.
    func tell(_ subscriber: FrontEndSubscribers.Subscriber, _ body: ByteBuffer?, books: [Book], giveUp: ContinuousClock.Instant) async {
        while ContinuousClock.now < giveUp {
            guard let current = await subscribers.current(subscriber), current.expiry > .now else { return }
            if let body, let reply = try? await client.send(.POST, subscriber.url + "/internal/cache/invalidate", body: body, headers: headers,
                                                  timeout: min(lease / 2, giveUp - .now)),
               reply.isSuccess {
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard let lapses = await subscribers.cut(subscriber) else { return }
        logger.warning("front end not told within a lease: its subscription is cut, the write answered once it lapses", metadata: [
            "front": "\(subscriber.url)", "books": "\(books.map(\.id))",
        ])
        if ContinuousClock.now < lapses { try? await Task.sleep(until: lapses) }
    }
}
