import BazarModels
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird

/// Encodes and decodes the JSON bodies of the contract.
public enum JSONResponse {
    static let encoder = BazarJSON.encoder()
    static let decoder = BazarJSON.decoder()
    static let contentType = "application/json; charset=utf-8"

    public static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        raw(try encode(value), status: status, headers: headers)
    }

    /// An error body: encoding it cannot fail, and the error path must not throw.
    static func error(_ body: ErrorBody, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        let data = (try? encoder.encode(body)) ?? Data(#"{"error":{"code":"internal_error","message":"encoding failed"}}"#.utf8)
        return raw(ByteBuffer(bytes: data), status: status, headers: headers)
    }

    /// Passes an answer from a back end on unchanged, with the given extra headers.
    public static func raw(_ body: ByteBuffer, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    public static func encode(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try encoder.encode(value))
    }

    public static func encodeString(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        try decoder.decode(T.self, from: Data(buffer.readableBytesView))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decoder.decode(T.self, from: Data(text.utf8))
    }
}

extension Request {
    /// Reads the whole body, at most `limit` bytes (413 beyond). Writes keep the bytes, to send
    /// them on to the leader as they came; other routes decode with `decode(as:context:)`.
    public func collectBody(limit: Int) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.payloadTooLarge, "The body is larger than the limit of \(limit) bytes.")
        }
        do {
            return try await body.collect(upTo: limit)
        } catch {
            throw APIError(.payloadTooLarge, "The body is larger than the limit of \(limit) bytes.")
        }
    }

}

extension JSONResponse {
    /// Decodes a request body, or throws 400 `invalid_body` with the decoder's reason.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else { throw APIError(.invalidBody, "The request needs a JSON body.") }
        do {
            return try decode(T.self, from: buffer)
        } catch let error as DecodingError {
            throw APIError(.invalidBody, "The body is not valid: \(reason(error)).")
        } catch {
            throw APIError(.invalidBody, "The body is not valid JSON.")
        }
    }

    static func reason(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
            return keys.isEmpty ? "" : " at '\(keys)'"
        }
        switch error {
        case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context): return "wrong type\(path(context))"
        case .valueNotFound(_, let context): return "missing value\(path(context))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "\(context.debugDescription)\(path(context))"
        @unknown default: return "unreadable"
        }
    }
}
