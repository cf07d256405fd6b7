import BazarModels
import BazarService
import Logging
import Tracing

/// The leader's ordered stream of log entries to one follower. Entries go out in batches, one
/// batch in flight at a time, so a follower sees them in sequence order; an empty batch is a
/// heartbeat. A follower that misses entries (it restarted, or was dropped) is fed from the log,
/// and one whose log took another path, or lies before the compacted log, gets a snapshot.
///
/// A follower that has not answered for a whole lease is dropped from the in-sync set: writes
/// stop waiting for it until it has caught up again. A follower that answers from a newer term
/// deposes this leader.
actor FollowerStream {
    let follower: ReplicaEndpoint
    let group: ReplicaGroup
    let log: ReplicationLog
    /// Its own HTTP client, replaced after repeated failures: AsyncHTTPClient backs off from a
    /// host it failed to connect to, for seconds, and a restarted follower must not wait for that.
    private var client: BackendClient?
    private var consecutiveFailures = 0
    let tokens: AccessTokens
    let lease: Duration
    let heartbeat: Duration
    let logger: Logger
    let snapshot: @Sendable () async throws -> ReplicationSnapshot
    /// The leader's commit index and shown point, sent with every push.
    let commitPoint: CommitPoint
    let shownPoint: CommitPoint?

    private var pending: [ReplicationEntry] = []
    /// The client requests that pending entries serve, by sequence number: a push carrying them
    /// names them, and is a span of the first one's trace, linked to the others'.
    private var pendingOrigins: [Int64: WriteOrigin] = [:]
    /// How far the follower's log reaches, as it last said (where the next push starts); -1
    /// until it has said.
    private var acknowledged: Int64 = -1
    /// How far the follower's log is known to be this leader's: only an accepted push says so. A
    /// refusal's end (a gap) may be another leader's entries, and counting it for a commit lost a
    /// committed write in the simulation (an old leader's shorter log, then its vote).
    private var matched: Int64 = -1
    private var acknowledgedTerm: Int64?
    private var snapshotNeeded = false
    /// Numbers the messages of this term, so the follower can drop late ones.
    private var messageNumber: Int64 = 0
    private(set) var isInSync = true
    private var failingSince: ContinuousClock.Instant?
    /// When the last batch that the follower accepted was sent: the leader's own read lease.
    private var confirmedAt: ContinuousClock.Instant?
    private var waiters: [(seq: Int64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var wakeUp: CheckedContinuation<Void, Never>?
    private var wakeRequested = false
    private var stopped = false
    /// Grows at every `reset`: an exchange that began before one is not taken as an answer.
    private var generation = 0
    /// The exchange under way, cancelled by `reset` and `stop`: a catch-up push may wait long,
    /// and a new term (or a shutdown) must not wait for it.
    private var inFlight: Task<(ReplicationAck, Sent), any Error>?
    /// The replicator, which alone changes this replica's role: told when a follower deposes it.
    private weak var owner: Replicator?

    static let batchLimit = 256
    /// How long a follower that is catching up may take over one push or snapshot. No write waits
    /// for it, so a slow machine may take its time; a deadline it cannot meet would only send it
    /// the same entries again and again, and it would never catch up.
    static let catchUpTimeout = Duration.seconds(30)

    /// How long a push may take: writes wait for an in-sync follower, so its pushes must answer
    /// well within the lease.
    private var pushTimeout: Duration { isInSync ? min(lease / 2, .seconds(1)) : Self.catchUpTimeout }

    init(follower: ReplicaEndpoint, group: ReplicaGroup, log: ReplicationLog,
         tokens: AccessTokens, lease: Duration, heartbeat: Duration, logger: Logger,
         commitPoint: CommitPoint, shownPoint: CommitPoint?, snapshot: @escaping @Sendable () async throws -> ReplicationSnapshot) {
        self.commitPoint = commitPoint
        self.shownPoint = shownPoint
        self.follower = follower
        self.group = group
        self.log = log
        self.tokens = tokens
        self.lease = lease
        self.heartbeat = heartbeat
        self.logger = logger
        self.snapshot = snapshot
    }

    func report(to owner: Replicator) {
        self.owner = owner
    }

    /// A new term of leadership starts from nothing known about the follower.
    func reset() {
        generation += 1
        inFlight?.cancel()
        pending.removeAll()
        pendingOrigins.removeAll()
        acknowledged = -1
        matched = -1
        acknowledgedTerm = nil
        snapshotNeeded = false
        messageNumber = 0
        isInSync = true
        failingSince = nil
        confirmedAt = nil
        releaseWaiters(all: true, acknowledged: false)
        wake()
    }

    func enqueue(_ entries: [ReplicationEntry], origins: [Int64: WriteOrigin] = [:]) {
        if isInSync {
            pending.append(contentsOf: entries)
            pendingOrigins.merge(origins) { _, new in new }
        }
        wake()
    }

    /// The shown point moved: an idle stream sends a heartbeat now rather than after its pause,
    /// since the follower's reads wait for it.
    func shownPointMoved() {
        wake()
    }

    /// True once the follower has `seq`, or once it is out of the in-sync set; false when this
    /// replica was deposed before that (the write must not be acknowledged).
    func waitUntilAcknowledged(_ seq: Int64) async -> Bool {
        guard isInSync, matched < seq else { return true }
        return await withCheckedContinuation { waiters.append((seq, $0)) }
    }

    /// Until when this follower's confirmation of the leadership holds (a lease from the send time
    /// of the last push it accepted in this term), and whether the leader's lease needs it.
    func leaseStanding() -> (confirmedUntil: ContinuousClock.Instant?, inSync: Bool) {
        (confirmedAt.map { $0 + lease }, isInSync)
    }

    /// Whether the follower accepted `seq` from this leader (in this term).
    func holds(_ seq: Int64) -> Bool { matched >= seq }

    /// How far the follower is behind `end` (this leader's log end) and whether it is in sync, as
    /// far as its last answer in this term says; nil before it has answered.
    func standing(behind end: Int64) -> (lag: Int64, inSync: Bool)? {
        acknowledged < 0 ? nil : (max(0, end - acknowledged), isInSync)
    }

    /// Whether a write of `seq` need not wait for this follower any more: it holds it, or it is out
    /// of the in-sync set.
    func holdsUnlessOutOfSync(_ seq: Int64) -> Bool { !isInSync || matched >= seq }

    func stop() {
        stopped = true
        inFlight?.cancel()
        wake()
        releaseWaiters(all: true, acknowledged: false)
    }

    func run() async {
        client = BackendClient(connectionsPerHost: 2)
        var backoff = Duration.milliseconds(20)
        defer { Task { [client] in try? await client?.http.shutdown() } }
        while !stopped {
            guard await group.isLeader else {
                await sleep(heartbeat)
                continue
            }
            let term = await group.term, generation = self.generation
            // Before a heartbeat, the leader's commit index and shown point catch up with a quiet
            // log, so that they reach the followers without waiting for a read or a write.
            if pending.isEmpty { await owner?.refreshPoints() }
            do {
                let sentAt = ContinuousClock.now
                let exchange = Task { try await self.exchange(term: term) }
                inFlight = exchange
                let (ack, sent) = try await exchange.value
                inFlight = nil
                backoff = .milliseconds(20)
                consecutiveFailures = 0
                guard generation == self.generation else { continue }
                if await handle(ack, sent: sent, term: term, sentAt: sentAt), sent.isHeartbeat {
                    await sleep(heartbeat)
                }
            } catch {
                inFlight = nil
                guard generation == self.generation else { continue }
                logger.debug("push failed", metadata: ["follower": "\(follower.name)", "error": "\(error)", "acknowledged": "\(acknowledged)"])
                recordFailure(error)
                consecutiveFailures += 1
                if consecutiveFailures >= 5 {
                    try? await client?.http.shutdown()
                    client = BackendClient(connectionsPerHost: 2)
                    consecutiveFailures = 0
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, heartbeat)
            }
        }
    }

    /// What went out, for interpreting the answer.
    struct Sent: Sendable {
        var lastSeq: Int64
        var lastTerm: Int64?
        var isHeartbeat: Bool
        var isShort: Bool
    }

    private func exchange(term: Int64) async throws -> (ReplicationAck, Sent) {
        let leader = group.me.description
        if snapshotNeeded { return try await sendSnapshot() }
        if acknowledged < 0 {
            // First contact: ask where the follower stands before sending anything.
            let last = try await log.lastPosition()
            var batch = ReplicationBatch(leader: leader, term: term, previousSeq: last.seq, previousTerm: last.term, entries: [],
                                         number: nextNumber(), inSync: isInSync, committedSeq: commitPoint.seq, shownSeq: shownPoint?.seq)
            batch.leaseMilliseconds = await grantedLease()
            return (try await post("/internal/replication/append", batch, timeout: pushTimeout), Sent(lastSeq: last.seq, lastTerm: last.term, isHeartbeat: true, isShort: true))
        }
        let entries: [ReplicationEntry]?
        if let first = pending.first, first.seq == acknowledged + 1 {
            entries = Array(pending.prefix(Self.batchLimit))
        } else {
            // The follower is behind what is buffered: read what it misses from the log.
            entries = try await log.entries(after: acknowledged, limit: Self.batchLimit)
        }
        let previousTerm = try await termOfAcknowledged()
        guard let entries, entries.first.map({ $0.seq == acknowledged + 1 }) ?? true, let previousTerm else {
            return try await sendSnapshot()
        }
        // Only a batch that reaches the end of what was committed without the follower may let it
        // serve reads again: a full one read from the log may stop short of writes acknowledged
        // while it was out of sync.
        let origins = entries.compactMap { pendingOrigins[$0.seq] }
        let requestIDs = origins.compactMap(\.requestID)
        var batch = ReplicationBatch(leader: leader, term: term, previousSeq: acknowledged, previousTerm: previousTerm, entries: entries,
                                     number: nextNumber(), inSync: isInSync && entries.count < Self.batchLimit, committedSeq: commitPoint.seq,
                                     shownSeq: shownPoint?.seq, requestIDs: requestIDs.isEmpty ? nil : requestIDs)
        batch.leaseMilliseconds = await grantedLease()
        let traces = origins.compactMap(\.trace)
        let ack = try await Traces.span(
            "replication push", in: traces.first, linking: Array(traces.dropFirst()),
            attributes: ["bazar.follower": .string(follower.name.description), "bazar.entries": .int64(Int64(entries.count)), "bazar.first_seq": .int64(entries.first?.seq ?? 0)]
        ) { _ in
            try await post("/internal/replication/append", batch, timeout: pushTimeout)
        }
        return (ack, Sent(lastSeq: entries.last?.seq ?? acknowledged, lastTerm: entries.last?.term ?? previousTerm,
                          isHeartbeat: entries.isEmpty, isShort: entries.count < Self.batchLimit))
    }

    /// What is left of the leader's own lease, granted to the follower with a push stamped just
    /// before: the follower may serve reads under it no longer than the leader may (read after
    /// the stamp, and a millisecond short, so that it errs on the short side).
    private func grantedLease() async -> Int64 {
        guard let owner else { return 0 }
        switch await owner.leaseEnd() {
        case .none: return 0
        case .unbounded: return lease.milliseconds
        case .until(let end): return max(0, min(lease, end - .now).milliseconds - 1)
        }
    }

    private func termOfAcknowledged() async throws -> Int64? {
        if let acknowledgedTerm { return acknowledgedTerm }
        return try await log.term(at: acknowledged)
    }

    private func nextNumber() -> Int64 {
        messageNumber += 1
        return messageNumber
    }

    private func sendSnapshot() async throws -> (ReplicationAck, Sent) {
        var state = try await snapshot()
        state.number = nextNumber()
        state.sentAt = ReplicationBatch.now()
        logger.info("sending a snapshot", metadata: ["follower": "\(follower.name)", "seq": "\(state.lastSeq)"])
        ReplicationMetrics.snapshotSent(to: follower.name.description)
        // A snapshot can take a while to install, and no write waits for it.
        let ack = try await post("/internal/replication/snapshot", state, timeout: Self.catchUpTimeout)
        return (ack, Sent(lastSeq: state.lastSeq, lastTerm: state.lastTerm, isHeartbeat: false, isShort: true))
    }

    private func post(_ path: String, _ body: some Encodable, timeout: Duration) async throws -> ReplicationAck {
        let headers = [("Authorization", tokens.internalAuthorization)]
        guard let client else { throw BackendClient.Unreachable(url: follower.url, reason: "stream not running") }
        let reply = try await client.send(.POST, follower.url + path, body: try JSONResponse.encode(body),
                                          headers: headers, timeout: timeout)
        guard reply.isSuccess else {
            throw BackendClient.Unreachable(url: follower.url, reason: "status \(reply.status)")
        }
        return try reply.decode(ReplicationAck.self)
    }

    /// Returns whether this replica still leads.
    private func handle(_ ack: ReplicationAck, sent: Sent, term: Int64, sentAt: ContinuousClock.Instant) async -> Bool {
        if !ack.accepted || !isInSync {
            logger.debug("push answered", metadata: [
                "follower": "\(follower.name)", "accepted": "\(ack.accepted)", "last_seq": "\(ack.lastSeq)",
                "snapshot": "\(ack.needsSnapshot)", "sent_last": "\(sent.lastSeq)",
            ])
        }
        let theirLeader = ack.leader.flatMap(ReplicaName.init)
        if StepDownRule.isDeposed(by: ack, term: term, me: group.me) {
            logger.notice("deposed: a follower knows a newer leader", metadata: [
                "follower": "\(follower.name)", "term": "\(ack.term)", "leader": "\(ack.leader ?? "")",
            ])
            releaseWaiters(all: true, acknowledged: false)
            await owner?.deposed(term: ack.term, leader: theirLeader)
            return false
        }
        // An acceptance while following another leader of this term (two may briefly think they
        // lead) says nothing about this leader's entries: it counts as no answer, not as an ack.
        if ack.accepted, ack.leader != group.me.description {
            recordFailure(BackendClient.Unreachable(url: follower.url, reason: "it follows \(ack.leader ?? "no leader")"))
            return true
        }
        failingSince = nil
        acknowledged = ack.lastSeq
        matched = ack.accepted && !ack.needsSnapshot ? ack.lastSeq : min(matched, ack.lastSeq)
        acknowledgedTerm = ack.lastSeq == sent.lastSeq ? sent.lastTerm : nil
        pending.removeAll { $0.seq <= acknowledged }
        if !pendingOrigins.isEmpty { pendingOrigins = pendingOrigins.filter { $0.key > acknowledged } }
        snapshotNeeded = ack.needsSnapshot
        if ack.needsSnapshot || !ack.accepted {
            // The follower says it is behind: it serves no reads, so writes need not wait for it.
            dropFromInSync(reason: ack.needsSnapshot ? "its log diverged" : "it is behind")
            return true
        }
        confirmedAt = sentAt
        // Back in sync once the follower holds everything the log had when this batch was read
        // (under steady writes it never holds the very latest). It serves reads only after the
        // next batch, which says it is in sync and carries whatever was committed meanwhile.
        if !isInSync, sent.isShort, ack.lastSeq >= sent.lastSeq {
            isInSync = true
            logger.info("follower in sync", metadata: ["follower": "\(follower.name)", "seq": "\(acknowledged)"])
            ReplicationMetrics.followerCaughtUp(follower.name.description)
        }
        releaseWaiters(all: false, acknowledged: true)
        return true
    }

    private func recordFailure(_ error: any Error) {
        let now = ContinuousClock.now
        let since = failingSince ?? now
        failingSince = since
        if isInSync, now - since >= lease {
            dropFromInSync(reason: "\(error)")
        }
    }

    private func dropFromInSync(reason: String) {
        guard isInSync else { return }
        isInSync = false
        pending.removeAll()
        pendingOrigins.removeAll()
        logger.warning("follower dropped from the in-sync set", metadata: ["follower": "\(follower.name)", "reason": "\(reason)"])
        ReplicationMetrics.followerDropped(follower.name.description)
        releaseWaiters(all: true, acknowledged: true)
    }

    private func releaseWaiters(all: Bool, acknowledged answer: Bool) {
        let ready = waiters.filter { all || $0.seq <= matched }
        waiters.removeAll { all || $0.seq <= matched }
        for waiter in ready { waiter.continuation.resume(returning: answer) }
    }

    private func sleep(_ duration: Duration) async {
        guard pending.isEmpty, !stopped else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await self.waitForWake() }
            await group.next()
            group.cancelAll()
            self.wake()
        }
        wakeRequested = false
    }

    private func waitForWake() async {
        if wakeRequested {
            wakeRequested = false
            return
        }
        await withCheckedContinuation { continuation in
            if let previous = wakeUp { previous.resume() }
            wakeUp = continuation
        }
    }

    private func wake() {
        if let wakeUp {
            wakeUp.resume()
            self.wakeUp = nil
        } else {
            wakeRequested = true
        }
    }
}
