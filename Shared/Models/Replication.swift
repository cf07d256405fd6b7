#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One write in a service's replication log. The leader assigns `seq` (gap-free, from 1) and
/// commits the entry in the same transaction as the write; followers apply entries in `seq` order.
/// `effect` is the service's own JSON description of the write's result (a post-image), so that
/// applying an entry twice is harmless.
public struct ReplicationEntry: Codable, Hashable, Sendable {
    public var seq: Int64
    public var term: Int64
    public var requestID: String?
    public var effect: String

    public init(seq: Int64, term: Int64, requestID: String?, effect: String) {
        self.seq = seq
        self.term = term
        self.requestID = requestID
        self.effect = effect
    }

    enum CodingKeys: String, CodingKey {
        case seq, term, effect
        case requestID = "request_id"
    }
}

/// A leader's push to a follower: the entries that follow `previousSeq`, whose entry was written
/// in `previousTerm` (so that a follower can tell when its log took another path). An empty
/// batch is a heartbeat.
public struct ReplicationBatch: Codable, Hashable, Sendable {
    public var leader: String
    public var term: Int64
    public var previousSeq: Int64
    public var previousTerm: Int64
    public var entries: [ReplicationEntry]
    /// Grows with every batch of a term: a follower drops a batch that arrives after a newer one
    /// (a retry that sat in a paused follower's socket).
    public var number: Int64
    /// When the leader sent it (milliseconds since 1970): a follower's read lease runs from here,
    /// not from when the batch arrived.
    public var sentAt: Int64
    /// Whether the leader counts this follower in sync, that is, waits for it before answering
    /// writes. Only then may the follower serve reads.
    public var inSync: Bool
    /// How long from `sentAt` the follower may serve reads under this batch (milliseconds): what
    /// is left of the leader's own lease, so that no follower serves after the leader may no
    /// longer (`LeaderLease`). Nil from a leader that does not say: a whole lease.
    public var leaseMilliseconds: Int64?
    /// The highest entry that every in-sync follower holds, as the leader knows it: a follower
    /// shows what its read saw only once this covers it (G8: another follower may not have it
    /// yet). Nil from a leader that does not say.
    public var committedSeq: Int64?
    /// The highest entry that, with every one before it, is committed and was announced to
    /// whoever caches reads (the catalog's front ends): a follower of a service that announces
    /// its writes shows what its read saw only once this covers it (G8 across front ends). Nil
    /// from a leader of a service that announces nothing.
    public var shownSeq: Int64?
    /// The client requests (`X-Request-ID`) whose writes the entries are, when the leader knows
    /// them: the follower's log names them, so that one id finds a purchase on every replica.
    public var requestIDs: [String]?

    public init(leader: String, term: Int64, previousSeq: Int64, previousTerm: Int64, entries: [ReplicationEntry],
                number: Int64 = 0, sentAt: Int64 = ReplicationBatch.now(), inSync: Bool = true, committedSeq: Int64? = nil,
                shownSeq: Int64? = nil, requestIDs: [String]? = nil) {
        self.requestIDs = requestIDs
        self.committedSeq = committedSeq
        self.shownSeq = shownSeq
        self.leader = leader
        self.term = term
        self.previousSeq = previousSeq
        self.previousTerm = previousTerm
        self.entries = entries
        self.number = number
        self.sentAt = sentAt
        self.inSync = inSync
    }

    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// What the batch carries, for logs and a replica's progress.
    public var summary: String {
        let what = switch (entries.first?.seq, entries.last?.seq) {
        case (let first?, let last?): first == last ? "entry \(first)" : "entries \(first)-\(last)"
        default: "a heartbeat"
        }
        return "\(what) after \(previousSeq) from \(leader) (term \(term), push \(number))"
    }

    enum CodingKeys: String, CodingKey {
        case leader, term, entries, number
        case previousSeq = "previous_seq"
        case previousTerm = "previous_term"
        case sentAt = "sent_at"
        case inSync = "in_sync"
        case leaseMilliseconds = "lease_ms"
        case committedSeq = "committed_seq"
        case shownSeq = "shown_seq"
        case requestIDs = "request_ids"
    }
}

/// A follower's answer to a push or a snapshot: how far its log now reaches, whom it follows in
/// which term, and whether it needs the leader's whole state because its log took another path.
public struct ReplicationAck: Codable, Hashable, Sendable {
    public var replica: String
    public var term: Int64
    public var leader: String?
    public var lastSeq: Int64
    public var accepted: Bool
    public var needsSnapshot: Bool

    public init(replica: String, term: Int64, leader: String?, lastSeq: Int64, accepted: Bool, needsSnapshot: Bool = false) {
        self.replica = replica
        self.term = term
        self.leader = leader
        self.lastSeq = lastSeq
        self.accepted = accepted
        self.needsSnapshot = needsSnapshot
    }

    enum CodingKeys: String, CodingKey {
        case replica, term, leader, accepted
        case lastSeq = "last_seq"
        case needsSnapshot = "needs_snapshot"
    }
}

/// A leader's whole state at one point of its log, for a follower whose log diverged or lies
/// before what the leader's compacted log still holds.
public struct ReplicationSnapshot: Codable, Hashable, Sendable {
    public var leader: String
    public var term: Int64
    public var lastSeq: Int64
    public var lastTerm: Int64
    /// The service's own JSON of its state (the books; the orders).
    public var state: String
    /// Every request id with its stored answer, so that at-most-once survives the snapshot.
    public var results: [String: String]
    /// As in a batch.
    public var number: Int64
    public var sentAt: Int64

    public init(leader: String, term: Int64, lastSeq: Int64, lastTerm: Int64, state: String, results: [String: String],
                number: Int64 = 0, sentAt: Int64 = ReplicationBatch.now()) {
        self.leader = leader
        self.term = term
        self.lastSeq = lastSeq
        self.lastTerm = lastTerm
        self.state = state
        self.results = results
        self.number = number
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case leader, term, state, results, number
        case sentAt = "sent_at"
        case lastSeq = "last_seq"
        case lastTerm = "last_term"
    }
}

/// `GET /replication/status` on every replica.
public struct ReplicationStatus: Codable, Hashable, Sendable {
    public enum Role: String, Codable, Sendable { case leader, follower }

    public var replica: String
    public var role: Role
    public var term: Int64
    public var lastSeq: Int64
    /// The leader this replica follows ("" while it knows none).
    public var leader: String
    public var inSync: Bool
    /// The term of the newest entry in the log: with `lastSeq`, how up to date the log is.
    public var lastTerm: Int64
    /// What holds this replica's write turn right now, if anything: where a stuck replica is stuck.
    public var progress: ReplicaProgress?

    public init(replica: String, role: Role, term: Int64, lastSeq: Int64, leader: String, inSync: Bool, lastTerm: Int64,
                progress: ReplicaProgress? = nil) {
        self.replica = replica
        self.role = role
        self.term = term
        self.lastSeq = lastSeq
        self.leader = leader
        self.inSync = inSync
        self.lastTerm = lastTerm
        self.progress = progress
    }

    enum CodingKeys: String, CodingKey {
        case replica, role, term, leader, progress
        case lastSeq = "last_seq"
        case inSync = "in_sync"
        case lastTerm = "last_term"
    }
}

/// The write a replica is busy with (a leader's commit, a follower's apply of a batch), how long
/// it has held the replica's write turn, and how many writes wait behind it.
/// A candidate's request for a replica's vote in `term` (three or more replicas): granted at most
/// once per term, and only when the candidate's log is at least as up to date as the voter's.
public struct VoteRequest: Codable, Hashable, Sendable {
    public var candidate: String
    public var term: Int64
    public var lastSeq: Int64
    public var lastTerm: Int64

    public init(candidate: String, term: Int64, lastSeq: Int64, lastTerm: Int64) {
        self.candidate = candidate
        self.term = term
        self.lastSeq = lastSeq
        self.lastTerm = lastTerm
    }

    enum CodingKeys: String, CodingKey {
        case candidate, term
        case lastSeq = "last_seq"
        case lastTerm = "last_term"
    }
}

/// A replica's answer to a `VoteRequest`: its term after the request, and whether it voted.
public struct VoteAnswer: Codable, Hashable, Sendable {
    public var replica: String
    public var term: Int64
    public var granted: Bool

    public init(replica: String, term: Int64, granted: Bool) {
        self.replica = replica
        self.term = term
        self.granted = granted
    }
}

public struct ReplicaProgress: Codable, Hashable, Sendable, CustomStringConvertible {
    public var work: String
    public var heldMs: Int64
    public var waiting: Int

    public init(work: String, heldMs: Int64, waiting: Int) {
        self.work = work
        self.heldMs = heldMs
        self.waiting = waiting
    }

    public var description: String { "\(work) for \(heldMs) ms, \(waiting) waiting" }

    enum CodingKeys: String, CodingKey {
        case work, waiting
        case heldMs = "held_ms"
    }
}

/// The catalog leader's word to a front end that a book changed: drop its info entry and its
/// topic's search entry, and never store a copy older than `version`.
public struct CacheInvalidation: Codable, Hashable, Sendable {
    public var bookID: Int
    public var topic: String
    public var version: Int

    public init(bookID: Int, topic: String, version: Int) {
        self.bookID = bookID
        self.topic = topic
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case bookID = "book_id"
        case topic, version
    }
}

/// The books that changed while the previous batch of invalidations was on its way, sent to a
/// front end together (`POST /internal/cache/invalidate` takes a batch or a single notice).
public struct CacheInvalidationBatch: Codable, Hashable, Sendable {
    public var items: [CacheInvalidation]

    public init(items: [CacheInvalidation]) { self.items = items }
}

/// A front end's request to be told of the catalog's changes, renewed every health interval
/// (`POST /internal/subscriptions` on the catalog leader). The leader calls the front end back at
/// `url`, or at the address the request came from and `port`.
public struct FrontEndSubscription: Codable, Hashable, Sendable {
    public var port: Int
    public var url: String?
    /// When the front end sent it (ms since 1970): the subscription runs for a lease from then.
    public var sentAt: Int64

    public init(port: Int, url: String? = nil, sentAt: Int64) {
        self.port = port
        self.url = url
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case port, url
        case sentAt = "sent_at"
    }
}

/// The catalog leader's answer to a subscription: until a lease after it was asked for, the
/// front end may serve from its cache, because no catalog answer, read or write, shows a write
/// before the front end has dropped what it changed, or its subscription has lapsed. A grant with another
/// leader, term or subscription number than the last one starts a new subscription: the front
/// end empties its cache first, since changes made before it were not sent to it.
public struct SubscriptionGrant: Codable, Hashable, Sendable {
    public var leader: String
    public var term: Int64
    public var subscription: Int64
    public var leaseMs: Int64

    public init(leader: String, term: Int64, subscription: Int64, leaseMs: Int64) {
        self.leader = leader
        self.term = term
        self.subscription = subscription
        self.leaseMs = leaseMs
    }

    enum CodingKeys: String, CodingKey {
        case leader, term, subscription
        case leaseMs = "lease_ms"
    }
}
