/// The body of every non-2xx answer: `{"error": {"code": "…", "message": "…"}}`.
public struct ErrorBody: Codable, Hashable, Sendable {
    public struct Detail: Codable, Hashable, Sendable {
        public var code: String
        public var message: String
    }

    public var error: Detail

    public init(code: ErrorCode, message: String) {
        self.error = Detail(code: code.rawValue, message: message)
    }
}

/// The error codes of the contract, each tied to one HTTP status.
public enum ErrorCode: String, Codable, Sendable, CaseIterable {
    case invalidID = "invalid_id"
    case invalidBody = "invalid_body"
    case invalidParameter = "invalid_parameter"
    case unauthorized
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case outOfStock = "out_of_stock"
    case payloadTooLarge = "payload_too_large"
    case uriTooLong = "uri_too_long"
    case unsupportedMediaType = "unsupported_media_type"
    case unavailable
    case internalError = "internal_error"

    public var status: Int {
        switch self {
        case .invalidID, .invalidBody, .invalidParameter: 400
        case .unauthorized: 401
        case .notFound: 404
        case .methodNotAllowed: 405
        case .outOfStock: 409
        case .payloadTooLarge: 413
        case .uriTooLong: 414
        case .unsupportedMediaType: 415
        case .unavailable: 503
        case .internalError: 500
        }
    }
}
