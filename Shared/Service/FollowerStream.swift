import BazarModels
import Logging

/// The leader's ordered stream of log entries to one follower. Entries go out in batches, one
/// batch in flight at a time, so a follower sees them in sequence order; an empty batch is a
/// heartbeat. A follower that misses entries (it restarted, or was dropped) is fed from the log.
///
/// A follower that has not answered for a whole lease is dropped from the in-sync set: writes
/// stop waiting for it until it has caught up again.
actor FollowerStream {
    let follower: ReplicaEndpoint
    let group: ReplicaGroup
    let log: ReplicationLog
    let client: BackendClient
    let tokens: AccessTokens
    let lease: Duration
    let heartbeat: Duration
    let logger: Logger

    private var pending: [ReplicationEntry] = []
    /// How far the follower's log reaches, as it last said; -1 until it has said.
    private var acknowledged: Int64 = -1
    private(set) var isInSync = true
    private var failingSince: ContinuousClock.Instant?
    private var waiters: [(seq: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    private var wakeUp: CheckedContinuation<Void, Never>?
    private var wakeRequested = false
    private var stopped = false

    static let batchLimit = 256

    init(follower: ReplicaEndpoint, group: ReplicaGroup, log: ReplicationLog, client: BackendClient,
         tokens: AccessTokens, lease: Duration, heartbeat: Duration, logger: Logger) {
        self.follower = follower
        self.group = group
        self.log = log
        self.client = client
        self.tokens = tokens
        self.lease = lease
        self.heartbeat = heartbeat
        self.logger = logger
    }

    func enqueue(_ entry: ReplicationEntry) {
        if isInSync { pending.append(entry) }
        wake()
    }

    /// Returns once the follower has `seq`, or once it is out of the in-sync set.
    func waitUntilAcknowledged(_ seq: Int64) async {
        guard isInSync, acknowledged < seq else { return }
        await withCheckedContinuation { waiters.append((seq, $0)) }
    }

    func stop() {
        stopped = true
        wake()
        releaseWaiters(all: true)
    }

    func run() async {
        var backoff = Duration.milliseconds(20)
        while !stopped {
            guard await group.isLeader else {
                await sleep(heartbeat)
                continue
            }
            do {
                let batch = try await nextBatch()
                let ack = try await push(batch)
                record(ack, after: batch)
                backoff = .milliseconds(20)
                if batch.entries.isEmpty, ack.accepted {
                    await sleep(heartbeat)
                }
            } catch {
                recordFailure(error)
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .milliseconds(200))
            }
        }
    }

    private func nextBatch() async throws -> ReplicationBatch {
        let leader = group.me.description
        let term = await group.term
        if acknowledged < 0 {
            // First contact: ask where the follower stands before sending anything.
            return ReplicationBatch(leader: leader, term: term, previousSeq: try await log.lastSeq(), entries: [])
        }
        if let first = pending.first, first.seq == acknowledged + 1 {
            return ReplicationBatch(leader: leader, term: term, previousSeq: acknowledged, entries: Array(pending.prefix(Self.batchLimit)))
        }
        // The follower is behind what is buffered: read what it misses from the log.
        let entries = try await log.entries(after: acknowledged, limit: Self.batchLimit)
        return ReplicationBatch(leader: leader, term: term, previousSeq: acknowledged, entries: entries)
    }

    private func push(_ batch: ReplicationBatch) async throws -> ReplicationAck {
        var headers: [(String, String)] = []
        if let authorization = tokens.internalAuthorization { headers.append(("Authorization", authorization)) }
        let reply = try await client.send(
            .POST, follower.url + "/internal/replication/append", body: try JSONResponse.encode(batch),
            headers: headers, timeout: min(lease / 2, .seconds(1)))
        guard reply.isSuccess else {
            throw BackendClient.Unreachable(url: follower.url, reason: "status \(reply.status)")
        }
        return try reply.decode(ReplicationAck.self)
    }

    private func record(_ ack: ReplicationAck, after batch: ReplicationBatch) {
        failingSince = nil
        acknowledged = ack.lastSeq
        pending.removeAll { $0.seq <= acknowledged }
        if !isInSync, ack.accepted, batch.entries.count < Self.batchLimit, acknowledged >= (batch.entries.last?.seq ?? batch.previousSeq) {
            isInSync = true
            logger.info("follower back in sync", metadata: ["follower": "\(follower.name)", "seq": "\(acknowledged)"])
        }
        releaseWaiters(all: false)
    }

    private func recordFailure(_ error: any Error) {
        let now = ContinuousClock.now
        let since = failingSince ?? now
        failingSince = since
        if isInSync, now - since >= lease {
            isInSync = false
            pending.removeAll()
            logger.warning("follower dropped from the in-sync set", metadata: [
                "follower": "\(follower.name)", "error": "\(error)",
            ])
            releaseWaiters(all: true)
        }
    }

    private func releaseWaiters(all: Bool) {
        let ready = waiters.filter { all || $0.seq <= acknowledged }
        waiters.removeAll { all || $0.seq <= acknowledged }
        for waiter in ready { waiter.continuation.resume() }
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
