import BazarModels
import FrontService
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
        await cache.store(info(3, version: 1), for: .info(3))
        #expect(await cache.lookup(.info(2)) == nil)
        #expect(await cache.lookup(.info(1)) != nil)
        #expect(await cache.lookup(.info(3)) != nil)
        let stats = await cache.currentStats()
        #expect(stats.evictions == 1)
        #expect(stats.size == 2)
        #expect(stats.hits == 3)
        #expect(stats.misses == 1)
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

    @Test("capacity 0 turns caching off")
    func disabled() async {
        let cache = ReadCache(capacity: 0)
        #expect(await cache.store(info(1, version: 1), for: .info(1)) == false)
        #expect(await cache.lookup(.info(1)) == nil)
    }
}
