import BazarService
import HTTPTypes
import Hummingbird
import NIOHTTP1

/// Sends a write that reached a follower on to the leader, and the leader's answer back.
public struct LeaderForwarding: Sendable {
    let group: ReplicaGroup
    let client: BackendClient
    let timeout: Duration
    /// The longest a forward waits, whatever its caller says (the request deadline).
    let longest: Duration

    static let forwardedHeader = HTTPField.Name("X-Bazar-Forwarded")!

    public init(group: ReplicaGroup, client: BackendClient, timeout: Duration, longest: Duration) {
        self.group = group
        self.client = client
        self.timeout = timeout
        self.longest = max(longest, timeout)
    }

    /// `idempotencyKey`: the key this write got here, sent on as `Idempotency-Key` (else the
    /// request's own, if any).
    public func forward(_ request: Request, body: ByteBuffer, context: BazarRequestContext, idempotencyKey: String? = nil) async throws -> Response {
        // One hop only: a replica that is not the leader either does not forward twice.
        guard request.headers[Self.forwardedHeader] == nil, let leaderURL = await group.leaderURL else {
            throw APIError.unavailable("No leader of \(group.me.service) is reachable right now.")
        }
        var headers: [(String, String)] = [("X-Request-ID", context.requestID), ("X-Bazar-Forwarded", group.me.description)]
        if let authorization = request.headers[.authorization] { headers.append(("Authorization", authorization)) }
        if let key = idempotencyKey ?? request.headers[.idempotencyKey] { headers.append(("Idempotency-Key", key)) }
        // As long as the caller waits, when it says: a slow leader is still the leader, and a
        // shorter wait only fails a call that the caller would have waited for.
        // (Anyone reaching the port may send the header: a value that is not a positive number is
        // ignored, and none waits longer than the request deadline.)
        let callerWaits = request.headers[.xBazarTimeoutMs].flatMap(Int64.init).flatMap { $0 > 0 ? Duration.milliseconds($0) : nil }
            .map { min($0, longest) }
        ReplicationMetrics.writesForwarded.increment()
        let reply: BackendClient.Reply
        do {
            reply = try await client.send(
                HTTPMethod(rawValue: request.method.rawValue), leaderURL + (request.uri.string),
                body: body.readableBytes > 0 ? body : nil, headers: headers, timeout: callerWaits ?? timeout)
        } catch is BackendClient.Unreachable {
            throw APIError.unavailable("The leader of \(group.me.service) did not answer.")
        }
        var fields = HTTPFields()
        if let servedBy = reply.headers.first(name: "X-Served-By") { fields[.xServedBy] = servedBy }
        return JSONResponse.raw(reply.body, status: .init(code: reply.status), headers: fields)
    }
}

extension LeaderForwarding {
    /// Runs a write here when this replica leads, else (or when leadership moved meanwhile)
    /// forwards it to the leader. `idempotencyKey` is the key the write got from the first
    /// replica that saw it: a write committed here and then forwarded, because this replica
    /// lost its leadership before its followers acknowledged it, must not apply twice.
    public func onLeader<Value: ResponseGenerator>(
        _ request: Request, body: ByteBuffer, context: BazarRequestContext, idempotencyKey: String? = nil,
        _ write: () async throws -> Value
    ) async throws -> LeaderAnswer<Value> {
        guard await group.isLeader else {
            return .relayed(try await forward(request, body: body, context: context, idempotencyKey: idempotencyKey))
        }
        do {
            return .here(try await write())
        } catch is Replicator.NotLeader {
            return .relayed(try await forward(request, body: body, context: context, idempotencyKey: idempotencyKey))
        }
    }
}

/// A write's answer: this replica's own, as the leader, or the leader's, relayed as it came.
public enum LeaderAnswer<Value: ResponseGenerator>: ResponseGenerator {
    case here(Value)
    case relayed(Response)

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        switch self {
        case .here(let value): try value.response(from: request, context: context)
        case .relayed(let response): response
        }
    }
}
