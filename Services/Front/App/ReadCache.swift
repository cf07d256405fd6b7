import BazarModels
import BazarService
import NIOCore

/// The front end's in-memory cache of `/info` and `/search` answers: least recently used out
/// first when full, optionally expiring after a time to live, and filling each key once however
/// many requests miss it at the same time.
///
/// Every entry remembers the versions of the books it shows. The catalog leader's invalidations
/// carry a book's new version, and the cache never stores a fill that shows a book older than
/// the newest version it was told about: a slow read that began before a write cannot put the
/// old value back. An invalidation also detaches the fills in flight for its keys, so a request
/// that arrives after it starts a fill of its own instead of waiting for the older one.
public actor ReadCache {
    public enum Key: Hashable, Sendable {
        case info(Int)
        case search(String)
    }

    public enum Value: Sendable, Equatable {
        case info(BookInfo)
        case search([BookSummary])
    }

    public struct Entry: Sendable, Equatable {
        public var value: Value
        /// The replica that filled the entry.
        public var servedBy: String
        /// Book id to the version this entry shows.
        public var versions: [Int: Int]
        /// The answer's body, encoded once when the entry is filled, where it does not depend on
        /// the request (an info answer; a search answer repeats the topic as asked): a hit serves
        /// these bytes without encoding anything.
        public var body: ByteBuffer?

        public init(value: Value, servedBy: String, versions: [Int: Int], body: ByteBuffer? = nil) {
            self.value = value
            self.servedBy = servedBy
            self.versions = versions
            self.body = body
        }
    }

    /// An answer and where it came from.
    public struct Read: Sendable {
        public var entry: Entry
        /// From the cache (`X-Cache: HIT`), rather than from a back end.
        public var hit: Bool
        /// Shared with a fill another request had already started.
        public var joined: Bool
    }

    public let capacity: Int
    /// Entries older than this are not served; nil: they live until evicted or invalidated.
    public let timeToLive: Duration?
    /// With a lease, entries are served only while a catalog leader's grant holds.
    public let lease: Duration?
    private let now: @Sendable () -> ContinuousClock.Instant
    private var leaseExpiry: ContinuousClock.Instant?
    private var subscription: SubscriptionGrant?
    /// Grows whenever the cache is emptied: a fill that began before stores nothing.
    private var generation: UInt64 = 0
    private var entries: [Key: (entry: Entry, storedAt: ContinuousClock.Instant)] = [:]
    private var recency = RecencyList<Key>()
    private var newestVersion: [Int: Int] = [:]
    private var fills: [Key: (id: UInt64, task: Task<Entry, any Error>)] = [:]
    private var fillCount: UInt64 = 0
    private var stats: CacheStats

    /// A cache of `capacity` entries; 0 switches caching (and coalescing) off. With a `lease`,
    /// the cache serves and stores only within a lease of a catalog leader's last grant
    /// (`subscribed`). `now` is the clock, replaceable in tests.
    public init(
        capacity: Int, timeToLive: Duration? = nil, lease: Duration? = nil,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.capacity = max(0, capacity)
        self.timeToLive = timeToLive.flatMap { $0 > .zero ? $0 : nil }
        self.lease = lease
        self.now = now
        self.stats = CacheStats(capacity: max(0, capacity), size: 0, hits: 0, misses: 0, evictions: 0, invalidations: 0,
                           expirations: 0, coalesced: 0)
    }

    /// A catalog leader's grant of the subscription asked for at `askedAt`: the cache may serve
    /// for the grant's lease from then. A grant of another subscription than the last one (a new
    /// leader, term or number) empties the cache first, fills in flight included: changes made
    /// before it began were not sent here. A late answer from an older term is ignored.
    public func subscribed(_ grant: SubscriptionGrant, askedAt: ContinuousClock.Instant) {
        guard let lease else { return }
        if let current = subscription, grant.term < current.term { return }
        let expiry = askedAt + min(lease, .milliseconds(grant.leaseMs))
        if subscription.map({ ($0.leader, $0.term, $0.subscription) != (grant.leader, grant.term, grant.subscription) }) ?? true {
            removeAll()
            subscription = grant
            leaseExpiry = expiry
            return
        }
        if leaseExpiry.map({ expiry > $0 }) ?? true { leaseExpiry = expiry }
    }

    /// The subscription the cache serves under, while its lease holds (for tests).
    func currentSubscription() -> SubscriptionGrant? { leaseHolds() ? subscription : nil }

    /// Whether entries may be used; an expired lease empties the cache.
    private func leaseHolds() -> Bool {
        guard lease != nil else { return true }
        if let leaseExpiry, now() < leaseExpiry { return true }
        if !entries.isEmpty || !fills.isEmpty { removeAll() }
        return false
    }

    /// The answer for `key`: from the cache, else from the fill in flight for it, else from
    /// `fill`, which is then stored (unless an invalidation has made it stale meanwhile).
    public func read(_ key: Key, fill: @escaping @Sendable () async throws -> Entry) async throws -> Read {
        if let entry = lookup(key) { return Read(entry: entry, hit: true, joined: false) }
        guard capacity > 0, leaseHolds() else { return Read(entry: try await fill(), hit: false, joined: false) }
        if let pending = fills[key] {
            stats.coalesced += 1
            return Read(entry: try await pending.task.value, hit: false, joined: true)
        }
        fillCount += 1
        let id = fillCount, began = generation
        let task = Task { try await fill() }
        fills[key] = (id, task)
        defer { if fills[key]?.id == id { fills[key] = nil } }
        let entry = try await task.value
        if generation == began { store(entry, for: key) }
        return Read(entry: entry, hit: false, joined: false)
    }

    /// The entry for `key` if it is cached and fresh; counts a hit or a miss.
    public func lookup(_ key: Key) -> Entry? {
        guard leaseHolds(), let found = entries[key] else {
            stats.misses += 1
            return nil
        }
        if let timeToLive, now() - found.storedAt >= timeToLive {
            drop(key)
            stats.expirations += 1
            stats.misses += 1
            return nil
        }
        recency.touch(key)
        stats.hits += 1
        return found.entry
    }

    /// Stores a fill unless it shows a book older than an invalidation or a fill already seen.
    /// Returns whether stored.
    @discardableResult
    public func store(_ entry: Entry, for key: Key) -> Bool {
        guard capacity > 0, leaseHolds() else { return false }
        for (book, version) in entry.versions where version < newestVersion[book, default: 0] {
            return false
        }
        // A fill teaches versions too: a slower fill showing an older state must not replace it
        // (a read served from the cache after one that showed the newer state would go back in time).
        for (book, version) in entry.versions { newestVersion[book] = max(newestVersion[book, default: 0], version) }
        if entries[key] == nil, entries.count >= capacity, let oldest = recency.leastRecent {
            drop(oldest)
            stats.evictions += 1
        }
        entries[key] = (entry, now())
        recency.touch(key)
        return true
    }

    /// A book changed: drop its info entry and its topic's search entry, unless they show that
    /// version already (a refusal for lack of stock announces the book as it is), and refuse older fills.
    public func invalidate(_ notice: CacheInvalidation) {
        newestVersion[notice.bookID] = max(newestVersion[notice.bookID, default: 0], notice.version)
        for key in [Key.info(notice.bookID), .search(topicKey(notice.topic))] {
            if let shown = entries[key]?.entry.versions[notice.bookID], shown >= notice.version { continue }
            drop(key)
            fills[key] = nil
        }
        stats.invalidations += 1
    }

    public func removeAll() {
        generation += 1
        entries.removeAll()
        recency.removeAll()
        fills.removeAll()
    }

    /// Keys from most to least recently used.
    public func keysByRecency() -> [Key] { recency.keysByRecency }

    public func currentStats() -> CacheStats {
        _ = leaseHolds()
        var current = stats
        current.size = entries.count
        return current
    }

    private func drop(_ key: Key) {
        entries[key] = nil
        recency.remove(key)
    }
}
