import BazarModels
import BazarService

/// The order service's way to take a copy from the catalog. The request id makes retries safe:
/// a retry on another catalog replica, or after a lost answer, returns the first receipt.
struct CatalogPurchases: Sendable {
    let catalogs: ReplicaRotation
    let client: BackendClient
    let settings: ServerSettings

    func take(bookID: Int, requestID: String, traceID: String) async throws -> PurchaseReceipt {
        let body = try JSONResponse.encode(PurchaseRequest(requestID: requestID))
        let (reply, _) = try await catalogs.call(service: "catalog", deadline: settings.requestDeadline, perAttempt: settings.backendTimeout, write: true) { catalog, timeout in
            try await client.send(.POST, "\(catalog.url)/books/\(bookID)/purchase", body: body,
                                  headers: [("X-Request-ID", traceID)], timeout: timeout)
        }
        guard reply.isSuccess else { throw BackendAnswer.error(from: reply) }
        return try reply.decode(PurchaseReceipt.self)
    }
}
