import BazarModels
import BazarService
import HTTPTypes
import Hummingbird
import Prometheus

/// The routes every replica of a replicated service answers: the leader's pushes and votes
/// (internal token), and the replication status, metrics, liveness and readiness (open).
public struct ReplicationRoutes: Sendable {
    let replicator: Replicator
    let tokens: AccessTokens

    public init(replicator: Replicator, tokens: AccessTokens) {
        self.replicator = replicator
        self.tokens = tokens
    }

    /// Pushes from the leader and votes among replicas. A batch or a snapshot may be far larger
    /// than a client's body: each route reads up to its own limit.
    public var internalRoutes: RouteTable<BazarRequestContext> {
        RouteTable(startsTraces: false)
            .add(middleware: BodyLimit(bytes: 4096))
            .post("/internal/replication/vote", use: vote)
            .add(middleware: BodyLimit(bytes: 64 * 1024 * 1024))
            .post("/internal/replication/append", use: append)
            .add(middleware: BodyLimit(bytes: 512 * 1024 * 1024))
            .post("/internal/replication/snapshot", use: installSnapshot)
    }

    public var operationalRoutes: RouteTable<BazarRequestContext> {
        let routes = RouteTable<BazarRequestContext>(startsTraces: false)
            .get("/replication/status") { _, _ in try await status() }
            .get("/health") { _, _ in Liveness.current }
            .get("/ready", use: ready)
        ServiceMetrics.addRoute(to: routes) { await publishMetrics() }
        return routes
    }

    @Sendable func append(_ request: Request, context: BazarRequestContext) async throws -> ReplicationAck {
        try tokens.requireInternal(request)
        return try await replicator.receive(try await request.decode(as: ReplicationBatch.self, context: context))
    }

    @Sendable func installSnapshot(_ request: Request, context: BazarRequestContext) async throws -> ReplicationAck {
        try tokens.requireInternal(request)
        return try await replicator.install(try await request.decode(as: ReplicationSnapshot.self, context: context))
    }

    @Sendable func vote(_ request: Request, context: BazarRequestContext) async throws -> VoteAnswer {
        try tokens.requireInternal(request)
        return try await replicator.vote(try await request.decode(as: VoteRequest.self, context: context))
    }

    @Sendable func ready(_ request: Request, context: BazarRequestContext) async throws -> [String: String] {
        try await replicator.requireReadable()
        return ["status": "ready"]
    }

    func publishMetrics() async {
        guard let status = try? await status() else { return }
        let registry = ServiceMetrics.registry
        registry.gauge("bazar_replication_leader", help: "1 while this replica leads its group, else 0.")
            .set(to: status.role == .leader ? 1 : 0)
        registry.gauge("bazar_replication_term", help: "The leader term this replica is in.")
            .set(Int64(status.term))
        registry.gauge("bazar_replication_last_seq", help: "Sequence number of the last entry in this replica's log.")
            .set(Int64(status.lastSeq))
        registry.gauge("bazar_replication_in_sync", help: "1 while this replica may serve reads (G6), else 0.")
            .set(to: status.inSync ? 1 : 0)
        registry.gauge("bazar_replication_commit_seq", help: "The commit index as this replica knows it: the last entry every in-sync follower holds.")
            .set(replicator.commitPoint.seq)
        if let shown = replicator.shownPoint {
            registry.gauge("bazar_replication_shown_seq",
                help: "The shown point as this replica knows it: the last entry that, with all before it, is committed and announced to the front ends.")
                .set(shown.seq)
        }
        // Each follower's lag, on the leader; a replica that stops leading drops these rows.
        let standings = await replicator.followerStandings()
        for peer in replicator.group.peers.map(\.name.description) {
            let lag = registry.gauge("bazar_replication_follower_lag", labels: [("follower", peer)],
                                         help: "On the leader: entries a follower is behind this leader's log end, as its last answer says.")
            let inSync = registry.gauge("bazar_replication_follower_in_sync", labels: [("follower", peer)],
                                            help: "On the leader: 1 while the follower is in the in-sync set (writes wait for it), else 0.")
            if let standing = standings.first(where: { $0.follower == peer }) {
                lag.set(standing.lag)
                inSync.set(to: standing.inSync ? 1 : 0)
            } else {
                registry.unregisterGauge(lag)
                registry.unregisterGauge(inSync)
            }
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
    /// one follower's to it before the other has them) and, where writes are announced, was
    /// announced (G8 across front ends).
    public nonisolated func readCommitted<T: Sendable>(_ read: @Sendable () async throws -> T) async throws -> T {
        try await requireReadable()
        let value = try await read()
        guard await mayAnswerRead() else {
            throw APIError.unavailable("\(group.me) cannot tell yet that its peers hold what it read, and the front ends heard of it.")
        }
        return value
    }

    /// `X-Served-By: <this replica>`.
    public nonisolated var servedBy: HTTPFields { [.xServedBy: group.me.description] }
}
