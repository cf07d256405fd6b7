import BazarModels
import BazarService
import HTTPTypes
import Hummingbird
import Prometheus

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
        routes.post("/internal/replication/vote") { request, _ in
            try tokens.requireInternal(request)
            let vote = try await request.decodeJSON(as: VoteRequest.self, limit: 4096)
            return JSONResponse.make(try await replicator.vote(vote))
        }
        routes.get("/replication/status") { _, _ in
            JSONResponse.make(try await status())
        }
        ServiceMetrics.addRoute(to: routes) {
            guard let status = try? await status() else { return }
            let registry = ServiceMetrics.registry
            registry.makeGauge(name: "bazar_replication_leader", help: "1 while this replica leads its group, else 0.")
                .set(to: status.role == .leader ? 1 : 0)
            registry.makeGauge(name: "bazar_replication_term", help: "The leader term this replica is in.")
                .set(Int64(status.term))
            registry.makeGauge(name: "bazar_replication_last_seq", help: "Sequence number of the last entry in this replica's log.")
                .set(Int64(status.lastSeq))
            registry.makeGauge(name: "bazar_replication_in_sync", help: "1 while this replica may serve reads (G6), else 0.")
                .set(to: status.inSync ? 1 : 0)
        }
        routes.get("/health") { _, _ in JSONResponse.make(Liveness.current) }
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
            lastTerm: position.term,
            progress: await replicator.turn.progress())
    }
}

extension Replicator {
    /// Throws 503 unless this replica may serve reads (G6).
    public func requireReadable() async throws {
        guard await canServeReads() else {
            throw APIError.unavailable("\(group.me) is catching up with its leader, or has none.")
        }
    }

    /// Runs `read` on this replica's state, and answers it only once it may be answered: this
    /// replica may serve reads (G6), and every write the read may show is held by every in-sync
    /// follower (G8: a leader's own writes are visible to it before they are; with two followers,
    /// one follower's to it before the other has them).
    public nonisolated func readCommitted<T: Sendable>(_ read: @Sendable () async throws -> T) async throws -> T {
        try await requireReadable()
        let value = try await read()
        guard await acknowledgedWhatReadsShow() else {
            throw APIError.unavailable("\(group.me) cannot tell yet that its peers hold what it read.")
        }
        return value
    }

    /// `X-Served-By: <this replica>`.
    public nonisolated var servedBy: HTTPFields { [.xServedBy: group.me.description] }
}
