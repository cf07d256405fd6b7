import BazarModels
import Foundation
@testable import FrontService
import Synchronization
import Testing

@Suite("Read cache")
struct ReadCacheTests {
    func info(_ id: Int, version: Int, quantity: Int = 1) -> ReadCache.Entry {
        let book = Book(id: id, title: "Book \(id)", topic: "t", quantity: quantity, price: Money(cents: 100), version: version)
        return .init(value: .info(BookInfo(book)), servedBy: "catalog-1", versions: [id: version])
    }

    @Test("the least recently used entry leaves first at the bound")
    func lruEviction() async {
        let cache = ReadCache(capacity: 2)
        await cache.store(info(1, version: 1), for: .info(1))
        await cache.store(info(2, version: 1), for: .info(2))
        _ = await cache.lookup(.info(1))
        #expect(await cache.keysByRecency() == [.info(1), .info(2)])
        await cache.store(info(3, version: 1), for: .info(3))
        #expect(await cache.keysByRecency() == [.info(3), .info(1)])
        #expect(await cache.lookup(.info(2)) == nil)
        #expect(await cache.lookup(.info(1)) != nil)
        #expect(await cache.lookup(.info(3)) != nil)
        let stats = await cache.currentStats()
        #expect(stats.evictions == 1)
        #expect(stats.size == 2)
        #expect(stats.hits == 3)
        #expect(stats.misses == 1)
    }

    @Test("recency order survives many touches, removals and evictions")
    func recencyAtScale() async {
        let cache = ReadCache(capacity: 100)
        for id in 1...300 {
            await cache.store(info(id, version: 1), for: .info(id))
            if id % 3 == 0 { _ = await cache.lookup(.info(id - 1)) }
        }
        let keys = await cache.keysByRecency()
        #expect(keys.count == 100)
        #expect(Set(keys).count == 100)
        #expect(keys.first == .info(299))
        #expect(await cache.currentStats().evictions == 200)
    }

    @Test("an entry expires after its time to live")
    func timeToLive() async {
        let clock = ManualClock()
        let cache = ReadCache(capacity: 10, timeToLive: .seconds(10), now: { clock.now })
        await cache.store(info(1, version: 1), for: .info(1))
        clock.advance(.seconds(9))
        #expect(await cache.lookup(.info(1)) != nil)
        clock.advance(.seconds(1))
        #expect(await cache.lookup(.info(1)) == nil)
        let stats = await cache.currentStats()
        #expect(stats.expirations == 1 && stats.size == 0)
        // Without a time to live, entries stay.
        let forever = ReadCache(capacity: 10, now: { clock.now })
        await forever.store(info(1, version: 1), for: .info(1))
        clock.advance(.seconds(3600))
        #expect(await forever.lookup(.info(1)) != nil)
    }

    static func grant(_ leader: String = "catalog-1", term: Int64 = 2, subscription: Int64 = 1, leaseMs: Int64 = 1000) -> SubscriptionGrant {
        SubscriptionGrant(leader: leader, term: term, subscription: subscription, leaseMs: leaseMs)
    }

    @Test("without a leader's grant for a lease, the cache empties and stores nothing")
    func leaseExpiry() async {
        let clock = ManualClock()
        let cache = ReadCache(capacity: 10, lease: .seconds(1), now: { clock.now })
        #expect(await cache.store(info(1, version: 1), for: .info(1)) == false)  // no lease yet
        await cache.subscribed(Self.grant(), askedAt: clock.now)
        #expect(await cache.store(info(1, version: 1), for: .info(1)))
        clock.advance(.milliseconds(900))
        #expect(await cache.lookup(.info(1)) != nil)
        clock.advance(.milliseconds(200))
        #expect(await cache.currentStats().size == 0)
        #expect(await cache.lookup(.info(1)) == nil)
    }

    @Test("a grant of another subscription empties the cache, fills in flight included; an older term's is ignored")
    func newSubscription() async throws {
        let clock = ManualClock()
        let cache = ReadCache(capacity: 10, lease: .seconds(1), now: { clock.now })
        await cache.subscribed(Self.grant(), askedAt: clock.now)
        await cache.store(info(2, version: 1), for: .info(2))
        // A renewal of the same subscription keeps the entries and moves the lease on.
        clock.advance(.milliseconds(600))
        await cache.subscribed(Self.grant(), askedAt: clock.now)
        clock.advance(.milliseconds(600))
        #expect(await cache.lookup(.info(2)) != nil)
        // A fill that began under the old subscription, answered after the new one began.
        let old = GatedFill(entry: info(1, version: 1))
        async let first = cache.read(.info(1), fill: old.call)
        while old.calls == 0 { try await Task.sleep(for: .milliseconds(1)) }
        await cache.subscribed(Self.grant("catalog-2", term: 3, subscription: 1), askedAt: clock.now)
        #expect(await cache.lookup(.info(2)) == nil)
        old.open()
        _ = try await first
        #expect(await cache.lookup(.info(1)) == nil)
        #expect(await cache.currentSubscription()?.leader == "catalog-2")
        // A late answer of the older term changes nothing; a new number in the same term empties.
        await cache.store(info(2, version: 1), for: .info(2))
        await cache.subscribed(Self.grant("catalog-1", term: 2, subscription: 1), askedAt: clock.now)
        #expect(await cache.lookup(.info(2)) != nil)
        #expect(await cache.currentSubscription()?.term == 3)
        await cache.subscribed(Self.grant("catalog-2", term: 3, subscription: 2), askedAt: clock.now)
        #expect(await cache.lookup(.info(2)) == nil)
        // The lease is the shorter of the front end's and the grant's.
        await cache.store(info(2, version: 1), for: .info(2))
        await cache.subscribed(Self.grant("catalog-2", term: 3, subscription: 3, leaseMs: 300), askedAt: clock.now)
        await cache.store(info(2, version: 1), for: .info(2))
        clock.advance(.milliseconds(400))
        #expect(await cache.lookup(.info(2)) == nil)
    }

    @Test("a fill older than an invalidation is not stored")
    func staleFill() async {
        let cache = ReadCache(capacity: 10)
        await cache.invalidate(CacheInvalidation(bookID: 1, topic: "t", version: 5))
        #expect(await cache.store(info(1, version: 4), for: .info(1)) == false)
        #expect(await cache.lookup(.info(1)) == nil)
        #expect(await cache.store(info(1, version: 5), for: .info(1)) == true)
        #expect(await cache.lookup(.info(1)) != nil)
    }

    @Test("a slower fill showing an older version never replaces a newer one (reads never go back in time)")
    func olderFillAfterNewer() async {
        let cache = ReadCache(capacity: 10)
        #expect(await cache.store(info(1, version: 6, quantity: 3), for: .info(1)))
        // A fill that began before the write, answered by a replica that had not applied it yet.
        #expect(await cache.store(info(1, version: 5, quantity: 4), for: .info(1)) == false)
        #expect(await cache.lookup(.info(1))?.versions == [1: 6])
        // A search fill showing the book older than a stored info fill is not kept either.
        let search = ReadCache.Entry(value: .search([BookSummary(id: 1, title: "Book 1")]), servedBy: "catalog-2", versions: [1: 5])
        #expect(await cache.store(search, for: .search("t")) == false)
    }

    @Test("an invalidation drops the book's info entry and its topic's search entry")
    func invalidatesSearch() async {
        let cache = ReadCache(capacity: 10)
        let search = ReadCache.Entry(value: .search([BookSummary(id: 1, title: "Book 1")]), servedBy: "catalog-2", versions: [1: 1, 2: 1])
        await cache.store(search, for: .search("distributed systems"))
        await cache.store(info(1, version: 1), for: .info(1))
        await cache.store(info(2, version: 1), for: .info(2))
        await cache.invalidate(CacheInvalidation(bookID: 1, topic: "Distributed Systems", version: 2))
        #expect(await cache.lookup(.search("distributed systems")) == nil)
        #expect(await cache.lookup(.info(1)) == nil)
        #expect(await cache.lookup(.info(2)) != nil)
        #expect(await cache.currentStats().invalidations == 1)
        // A search fill showing book 1 at the old version is refused too.
        #expect(await cache.store(search, for: .search("distributed systems")) == false)
    }

    @Test("an announcement of the version an entry already shows keeps it (a refusal for lack of stock changes no book)")
    func announcedVersionKeepsEntry() async {
        let cache = ReadCache(capacity: 10)
        await cache.store(info(1, version: 3), for: .info(1))
        await cache.invalidate(CacheInvalidation(bookID: 1, topic: "t", version: 3))
        #expect(await cache.lookup(.info(1)) == info(1, version: 3))
        await cache.invalidate(CacheInvalidation(bookID: 1, topic: "t", version: 4))
        #expect(await cache.lookup(.info(1)) == nil)
    }

    @Test("concurrent misses of one key make one back-end call")
    func coalescing() async throws {
        let cache = ReadCache(capacity: 10)
        let fill = GatedFill(entry: info(1, version: 1))
        let reads = try await withThrowingTaskGroup(of: ReadCache.Read.self) { group in
            for _ in 0..<20 {
                group.addTask { try await cache.read(.info(1), fill: fill.call) }
            }
            while await cache.currentStats().misses < 20 { try await Task.sleep(for: .milliseconds(1)) }
            fill.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(fill.calls == 1)
        #expect(reads.count == 20 && reads.allSatisfy { $0.entry == info(1, version: 1) && !$0.hit })
        #expect(reads.filter(\.joined).count == 19)
        #expect(await cache.currentStats().coalesced == 19)
        #expect(try await cache.read(.info(1), fill: fill.call).hit)
    }

    @Test("a miss after an invalidation does not join the older fill in flight")
    func invalidationDetachesFill() async throws {
        let cache = ReadCache(capacity: 10)
        let old = GatedFill(entry: info(1, version: 1))
        let new = GatedFill(entry: info(1, version: 2))
        new.open()
        async let first = cache.read(.info(1), fill: old.call)
        while old.calls == 0 { try await Task.sleep(for: .milliseconds(1)) }
        await cache.invalidate(CacheInvalidation(bookID: 1, topic: "t", version: 2))
        let second = try await cache.read(.info(1), fill: new.call)
        #expect(second.entry == info(1, version: 2) && !second.joined)
        old.open()
        #expect(try await first.entry == info(1, version: 1))
        // The old fill finished last but did not replace the newer entry.
        #expect(await cache.lookup(.info(1)) == info(1, version: 2))
    }

    @Test("capacity 0 turns caching and coalescing off")
    func disabled() async throws {
        let cache = ReadCache(capacity: 0)
        #expect(await cache.store(info(1, version: 1), for: .info(1)) == false)
        #expect(await cache.lookup(.info(1)) == nil)
        let fill = GatedFill(entry: info(1, version: 1))
        fill.open()
        _ = try await cache.read(.info(1), fill: fill.call)
        _ = try await cache.read(.info(1), fill: fill.call)
        #expect(fill.calls == 2)
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let offset = Mutex(Duration.zero)
    private let start = ContinuousClock.now
    var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    func advance(_ by: Duration) { offset.withLock { $0 += by } }
}

/// A back-end call that counts its calls and answers only once opened.
final class GatedFill: Sendable {
    let entry: ReadCache.Entry
    private let state = Mutex((calls: 0, open: false))

    init(entry: ReadCache.Entry) { self.entry = entry }

    var calls: Int { state.withLock { $0.calls } }
    func open() { state.withLock { $0.open = true } }

    @Sendable func call() async throws -> ReadCache.Entry {
        state.withLock { $0.calls += 1 }
        while !state.withLock({ $0.open }) { try await Task.sleep(for: .milliseconds(1)) }
        return entry
    }
}
