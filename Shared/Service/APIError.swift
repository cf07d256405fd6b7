import BazarModels
import HTTPTypes
import Hummingbird

/// An error of the contract: a status, a snake_case code and one human sentence, answered as
/// `{"error": {"code": …, "message": …}}`.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var status: HTTPResponse.Status { .init(code: code.status) }
    public var description: String { "\(code.rawValue): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.error(ErrorBody(code: code, message: message), status: status)
    }

    public static func notFound(_ message: String) -> APIError { .init(.notFound, message) }
    public static func invalidID(_ text: String) -> APIError {
        .init(.invalidID, "'\(text)' is not a valid id: ids are positive integers.")
    }
    public static func unavailable(_ message: String) -> APIError { .init(.unavailable, message) }
}
