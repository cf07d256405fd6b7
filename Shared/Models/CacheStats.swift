/// The front end's `GET /cache/stats` answer.
public struct CacheStats: Codable, Sendable, Equatable {
    public var capacity: Int
    public var size: Int
    public var hits: Int
    public var misses: Int
    public var evictions: Int
    public var invalidations: Int
    /// Entries dropped because their time to live had passed.
    public var expirations: Int
    /// Misses that waited for a fill already in flight instead of calling a back end.
    public var coalesced: Int

    public init(capacity: Int, size: Int, hits: Int, misses: Int, evictions: Int, invalidations: Int, expirations: Int, coalesced: Int) {
        self.capacity = capacity
        self.size = size
        self.hits = hits
        self.misses = misses
        self.evictions = evictions
        self.invalidations = invalidations
        self.expirations = expirations
        self.coalesced = coalesced
    }
}
