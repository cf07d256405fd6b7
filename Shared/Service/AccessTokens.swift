import HTTPTypes
import Hummingbird
import Logging

/// The bearer tokens that guard admin routes (restock, price, cache) and the routes replicas use
/// among themselves. With no token configured a route is open; services warn about that at start.
public struct AccessTokens: Sendable {
    public var admin: String?
    public var `internal`: String?

    public init(admin: String?, internal: String?) {
        self.admin = admin.flatMap { $0.isEmpty ? nil : $0 }
        self.internal = `internal`.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// An admin route accepts the admin token, and the internal token of a forwarding replica.
    public func requireAdmin(_ request: Request) throws {
        guard let admin else { return }
        let presented = Self.bearer(request)
        guard presented == admin || (presented != nil && presented == `internal`) else {
            throw APIError(.unauthorized, "This admin route needs 'Authorization: Bearer <admin token>'.")
        }
    }

    public func requireInternal(_ request: Request) throws {
        guard let `internal` else { return }
        guard Self.bearer(request) == `internal` else {
            throw APIError(.unauthorized, "This internal route needs 'Authorization: Bearer <internal token>'.")
        }
    }

    /// The header a replica sends on internal calls.
    public var internalAuthorization: String? { `internal`.map { "Bearer \($0)" } }

    public func warnIfOpen(logger: Logger) {
        if admin == nil {
            logger.warning("no admin token configured: admin routes are open (set BAZAR_ADMIN_TOKEN)")
        }
        if `internal` == nil {
            logger.warning("no internal token configured: internal routes are open (set BAZAR_INTERNAL_TOKEN)")
        }
    }

    static func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else { return nil }
        return String(value.dropFirst("Bearer ".count))
    }
}
