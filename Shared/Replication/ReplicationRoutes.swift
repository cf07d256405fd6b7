import BazarModels
import BazarService
import HTTPTypes
import Hummingbird

/// The routes every replica of a replicated service answers: the leader's pushes, the
/// replication status, liveness and readiness.
public struct ReplicationRoutes: Sendable {
    let replicator: Replicator
    let tokens: AccessTokens

    public init(replicator: Replicator, tokens: AccessTokens) {
        self.replicator = replicator
        self.tokens = tokens
    }

    public func add(to routes: RouteTable<BazarRequestContext>) {
        routes.post("/internal/replication/append") { request, _ in
            try tokens.requireInternal(request)
            let batch = try await request.decodeJSON(as: ReplicationBatch.self, limit: 64 * 1024 * 1024)
            return JSONResponse.make(try await replicator.receive(batch))
        }
        routes.post("/internal/replication/snapshot") { request, _ in
            try tokens.requireInternal(request)
            let snapshot = try await request.decodeJSON(as: ReplicationSnapshot.self, limit: 512 * 1024 * 1024)
            return JSONResponse.make(try await replicator.install(snapshot))
        }
        routes.get("/replication/status") { _, _ in
            JSONResponse.make(try await status())
        }
        routes.get("/health") { _, _ in JSONResponse.make(["status": "ok"]) }
        routes.get("/ready") { _, _ in
            try await replicator.requireReadable()
            return JSONResponse.make(["status": "ready"])
        }
    }

    func status() async throws -> ReplicationStatus {
        let group = replicator.group
        let position = await replicator.lastPosition()
        return ReplicationStatus(
            replica: group.me.description,
            role: await group.isLeader ? .leader : .follower,
            term: await group.term,
            lastSeq: position.seq,
            leader: await group.leader?.description ?? "",
            inSync: await replicator.canServeReads(),
            lastTerm: position.term)
    }
}

extension Replicator {
    /// Throws 503 unless this replica may serve reads (G6).
    public func requireReadable() async throws {
        guard await canServeReads() else {
            throw APIError.unavailable("\(group.me) is catching up with its leader, or has none.")
        }
    }

    /// `X-Served-By: <this replica>`.
    public nonisolated var servedBy: HTTPFields { [.xServedBy: group.me.description] }
}
