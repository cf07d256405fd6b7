import BazarModels
import BazarService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import NIOCore

/// `/info` and `/search` answers: from the cache when it has them, else from a catalog replica
/// chosen by the balancing policy (moving on when one is down or catching up), stored in the
/// cache on the way back. Concurrent misses of one key share a single back-end call.
struct CatalogReads: Sendable {
    let cache: ReadCache
    let catalogs: ReplicaRotation
    let client: BackendClient
    let settings: ServerSettings

    struct Answer: Sendable {
        var value: ReadCache.Value
        var servedBy: String
        var hit: Bool
        var versions: [Int: Int]
        /// The encoded answer, when the cache keeps it (see `ReadCache.Entry.body`).
        var body: ByteBuffer?
    }

    func info(_ id: Int, context: BazarRequestContext) async throws -> Answer {
        try await read(.info(id), path: "/books/\(id)", context: context) { reply in
            let book = try reply.decode(Book.self)
            let info = BookInfo(book)
            return (.info(info), [book.id: book.version], try JSONResponse.encode(info))
        }
    }

    func search(_ topic: String, context: BazarRequestContext) async throws -> Answer {
        try await read(.search(topicKey(topic)), path: "/books?topic=\(topic.percentEncodedComponent)", context: context) { reply in
            let books = try reply.decode(BookList.self).items
            return (.search(books.map { BookSummary(id: $0.id, title: $0.title) }),
                    Dictionary(books.map { ($0.id, $0.version) }, uniquingKeysWith: max), nil)
        }
    }

    /// `path` is built only on a miss: a hit needs no back-end URL.
    private func read(
        _ key: ReadCache.Key, path: @autoclosure @escaping @Sendable () -> String, context: BazarRequestContext,
        decode: @escaping @Sendable (BackendClient.Reply) throws -> (ReadCache.Value, [Int: Int], ByteBuffer?)
    ) async throws -> Answer {
        let (catalogs, client, settings) = (self.catalogs, self.client, self.settings)
        let requestID = context.requestID
        let read = try await cache.read(key) {
            let (reply, replica) = try await catalogs.call(
                service: "catalog", deadline: settings.requestDeadline, perAttempt: settings.backendTimeout
            ) { catalog, timeout in
                try await client.send(.GET, catalog.url + path(), headers: [("X-Request-ID", requestID)], timeout: timeout)
            }
            guard reply.isSuccess else { throw BackendAnswer.error(from: reply) }
            let (value, versions, body) = try decode(reply)
            return ReadCache.Entry(value: value, servedBy: replica.name.description, versions: versions, body: body)
        }
        return Answer(value: read.entry.value, servedBy: read.entry.servedBy, hit: read.hit, versions: read.entry.versions, body: read.entry.body)
    }
}
