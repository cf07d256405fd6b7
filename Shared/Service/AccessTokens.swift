import HTTPTypes
import Hummingbird
import Logging

/// The bearer tokens that guard admin routes (restock, price, cache) and the routes replicas use
/// among themselves. Both are required: a service does not start without them, so no route is
/// ever open for want of a token. Compared in constant time; never logged.
public struct AccessTokens: Sendable {
    public let admin: String
    public let `internal`: String

    public init(admin: String, internal: String) {
        self.admin = admin
        self.internal = `internal`
    }

    /// An admin route accepts the admin token, and the internal token of a forwarding replica.
    public func requireAdmin(_ request: Request) throws {
        let presented = Self.bearer(request)
        guard let presented, Self.same(presented, admin) || Self.same(presented, `internal`) else {
            throw APIError(.unauthorized, "This admin route needs 'Authorization: Bearer <admin token>'.")
        }
    }

    public func requireInternal(_ request: Request) throws {
        guard let presented = Self.bearer(request), Self.same(presented, `internal`) else {
            throw APIError(.unauthorized, "This internal route needs 'Authorization: Bearer <internal token>'.")
        }
    }

    /// The header a replica sends on internal calls.
    public var internalAuthorization: String { "Bearer \(`internal`)" }

    static func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else { return nil }
        return String(value.dropFirst("Bearer ".count))
    }

    /// Equality whose time depends on the lengths only, not on where the texts first differ
    /// (which would let a client guess a token byte by byte from the answers' timing).
    static func same(_ presented: String, _ token: String) -> Bool {
        let a = Array(presented.utf8), b = Array(token.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        for index in 0..<b.count { difference |= (index < a.count ? a[index] : 0) ^ b[index] }
        return difference == 0
    }
}
