import BazarModels
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the contract's error body: unknown routes into 404 `not_found`, known
/// paths with the wrong method into 405, anything unexpected into a logged 500.
public struct ErrorBodyMiddleware: RouterMiddleware {
    public typealias Context = BazarRequestContext
    let known: KnownPaths

    public init(known: KnownPaths) { self.known = known }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return errorResponse(error, request: request, context: context)
        }
    }

    func errorResponse(_ error: any Error, request: Request, context: Context) -> Response {
        let apiError: APIError
        var headers = HTTPFields()
        switch error {
        case let error as APIError:
            apiError = error
        case let error as HTTPError where error.status == .notFound:
            if let allowed = known.allowedMethods(request.uri.path) {
                apiError = APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path).")
                headers[.allow] = allowed.joined(separator: ", ")
            } else {
                apiError = APIError(.notFound, "There is no route \(request.method) \(request.uri.path).")
            }
        case let error as HTTPError where error.status == .contentTooLarge:
            apiError = APIError(.payloadTooLarge, "The body is larger than the limit.")
        case let error as HTTPError where error.status == .unauthorized:
            apiError = APIError(.unauthorized, "This route needs a valid bearer token.")
        case let error as HTTPError where (400..<500).contains(error.status.code):
            apiError = APIError(.invalidParameter, error.body ?? "The request is malformed.")
        default:
            context.logger.error("request failed", metadata: [
                "error": "\(String(reflecting: error))", "path": "\(request.uri.path)", "request_id": "\(context.requestID)",
            ])
            apiError = APIError(.internalError, "The server failed to answer this request.")
        }
        return JSONResponse.error(ErrorBody(code: apiError.code, message: apiError.message), status: apiError.status, headers: headers)
    }
}
