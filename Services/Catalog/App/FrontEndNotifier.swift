import BazarModels
import BazarService
import Logging

/// Tells every front end to drop its cache entries for a book that changed, with the book's new
/// version, before the leader answers the write (G3).
struct FrontEndNotifier: Sendable {
    let frontEnds: [String]
    let client: BackendClient
    let tokens: AccessTokens
    let logger: Logger

    func bookChanged(_ book: Book) async {
        let notice = CacheInvalidation(bookID: book.id, topic: book.topic, version: book.version)
        guard let body = try? JSONResponse.encode(notice) else { return }
        let headers = tokens.internalAuthorization.map { [("Authorization", $0)] } ?? []
        await withDiscardingTaskGroup { group in
            for front in frontEnds {
                group.addTask {
                    do {
                        let reply = try await client.send(.POST, front + "/internal/cache/invalidate", body: body,
                                                          headers: headers, timeout: .milliseconds(500))
                        if !reply.isSuccess {
                            logger.warning("front end refused an invalidation", metadata: ["front": "\(front)", "status": "\(reply.status)"])
                        }
                    } catch {
                        // A front end that cannot be reached empties its cache once it loses the catalog for a lease.
                        logger.warning("front end unreachable for invalidation", metadata: ["front": "\(front)", "book": "\(book.id)"])
                    }
                }
            }
        }
    }
}
