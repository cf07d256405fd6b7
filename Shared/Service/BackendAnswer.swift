import BazarModels

/// Relays a back end's error answer in the contract's shape.
public enum BackendAnswer {
    /// The back end's own error when it sent one of the contract's, else 503.
    public static func error(from reply: BackendClient.Reply) -> APIError {
        if let body = try? reply.decode(ErrorBody.self), let code = ErrorCode(rawValue: body.error.code), code != .internalError {
            return APIError(code, body.error.message)
        }
        return APIError.unavailable("A back end failed to answer (status \(reply.status)).")
    }
}
