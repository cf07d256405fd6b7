import BazarModels
import BazarReplication
import BazarService
import Hummingbird
import NIOCore

/// What front ends call on the catalog replicas with the internal token: their subscription to
/// the leader's changes (granted by the leader only; the others answer 503 naming it).
struct SubscriptionRoutes: Sendable {
    typealias Context = BazarRequestContext
    let notifier: FrontEndNotifier
    let tokens: AccessTokens

    var internalRoutes: RouteTable<Context> {
        RouteTable(startsTraces: false).post("/internal/subscriptions", use: subscribe)
    }

    @Sendable func subscribe(_ request: Request, context: Context) async throws -> SubscriptionGrant {
        try tokens.requireInternal(request)
        let asked = try await request.decode(as: FrontEndSubscription.self, context: context)
        guard let url = asked.url ?? Self.callBack(context.remoteAddress, port: asked.port) else {
            throw APIError(.invalidBody, "Give url, or port from an address the leader can call back.")
        }
        return try await notifier.subscribe(url, sentAt: ReadLease.instant(sentAt: asked.sentAt))
    }

    /// The front end's URL: the address its request came from, at the port it serves on.
    static func callBack(_ address: SocketAddress?, port: Int) -> String? {
        guard (1...65535).contains(port), let ip = address?.ipAddress else { return nil }
        return "http://\(ip.contains(":") ? "[\(ip)]" : ip):\(port)"
    }
}
