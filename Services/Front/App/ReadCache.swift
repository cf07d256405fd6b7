import BazarModels
import BazarService

/// The front end's in-memory cache of `/info` and `/search` answers, least recently used first
/// out when full.
///
/// Every entry remembers the versions of the books it shows. The catalog leader's invalidations
/// carry a book's new version, and the cache never stores a fill that shows a book older than
/// the newest version it was told about: a slow read that began before a write cannot put the
/// old value back.
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

        public init(value: Value, servedBy: String, versions: [Int: Int]) {
            self.value = value
            self.servedBy = servedBy
            self.versions = versions
        }
    }

    public struct Stats: Codable, Sendable, Equatable {
        public var capacity: Int
        public var size: Int
        public var hits: Int
        public var misses: Int
        public var evictions: Int
        public var invalidations: Int
    }

    public let capacity: Int
    /// With a lease, entries are served only while a catalog leader's word is fresh.
    public let lease: Duration?
    private var leaseExpiry: ContinuousClock.Instant?
    private var entries: [Key: (entry: Entry, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    private var newestVersion: [Int: Int] = [:]
    private var stats: Stats

    /// A cache of `capacity` entries; 0 switches caching off. With a `lease`, the cache serves
    /// and stores only within a lease of the last word from a catalog leader (`renewLease`).
    public init(capacity: Int, lease: Duration? = nil) {
        self.capacity = max(0, capacity)
        self.lease = lease
        self.stats = Stats(capacity: max(0, capacity), size: 0, hits: 0, misses: 0, evictions: 0, invalidations: 0)
    }

    /// A leader's heartbeat or invalidation, sent at `sentAt`.
    public func renewLease(sentAt: Int64) {
        guard let lease else { return }
        let expiry = ReadLease.instant(sentAt: sentAt) + lease
        if leaseExpiry.map({ expiry > $0 }) ?? true { leaseExpiry = expiry }
    }

    /// Whether entries may be used; an expired lease empties the cache.
    private func leaseHolds() -> Bool {
        guard lease != nil else { return true }
        if let leaseExpiry, ContinuousClock.now < leaseExpiry { return true }
        if !entries.isEmpty { entries.removeAll() }
        return false
    }

    public func lookup(_ key: Key) -> Entry? {
        guard leaseHolds(), let found = entries[key] else {
            stats.misses += 1
            return nil
        }
        clock += 1
        entries[key]?.lastUse = clock
        stats.hits += 1
        return found.entry
    }

    /// Stores a fill unless it is older than an invalidation already seen. Returns whether stored.
    @discardableResult
    public func store(_ entry: Entry, for key: Key) -> Bool {
        guard capacity > 0, leaseHolds() else { return false }
        for (book, version) in entry.versions where version < newestVersion[book, default: 0] {
            return false
        }
        if entries[key] == nil, entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[oldest] = nil
            stats.evictions += 1
        }
        clock += 1
        entries[key] = (entry, clock)
        return true
    }

    /// A book changed: drop its info entry and its topic's search entry, and refuse older fills.
    public func invalidate(_ notice: CacheInvalidation) {
        if let sentAt = notice.sentAt { renewLease(sentAt: sentAt) }
        newestVersion[notice.bookID] = max(newestVersion[notice.bookID, default: 0], notice.version)
        entries[.info(notice.bookID)] = nil
        entries[.search(topicKey(notice.topic))] = nil
        stats.invalidations += 1
    }

    public func removeAll() {
        entries.removeAll()
    }

    public func currentStats() -> Stats {
        var current = stats
        current.size = entries.count
        return current
    }
}
