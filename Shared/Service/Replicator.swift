import BazarModels
import Logging
import SQLKit
import ServiceLifecycle

/// A replica's write path. On the leader it commits each write together with its log entry,
/// hands the entry to every follower's stream and returns only when every in-sync follower has
/// acknowledged it. On a follower it applies the leader's entries in order.
public actor Replicator: Service {
    public nonisolated let group: ReplicaGroup
    public nonisolated let log: ReplicationLog
    nonisolated let streams: [FollowerStream]
    nonisolated let applyEffect: @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void
    nonisolated let logger: Logger
    let turn = WriteTurn()
    private var lastSeq: Int64 = -1
    private var lease: ReadLease

    /// A write's outcome: the answer, and the effect to replicate when the write changed state.
    public struct Outcome<Value: Sendable>: Sendable {
        public var value: Value
        public var effect: String?
        public init(value: Value, effect: String?) {
            self.value = value
            self.effect = effect
        }
    }

    public struct NotLeader: Error {}

    public init(
        group: ReplicaGroup, log: ReplicationLog, client: BackendClient, tokens: AccessTokens,
        lease: Duration, heartbeat: Duration, logger: Logger,
        applyEffect: @escaping @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void
    ) {
        self.group = group
        self.log = log
        self.applyEffect = applyEffect
        self.logger = logger
        self.lease = ReadLease(duration: lease)
        self.streams = group.peers.map {
            FollowerStream(follower: $0, group: group, log: log, client: client, tokens: tokens,
                           lease: lease, heartbeat: heartbeat, logger: logger)
        }
    }

    /// The newest sequence number in this replica's log.
    public func currentSeq() async throws -> Int64 {
        if lastSeq < 0 { lastSeq = try await log.lastSeq() }
        return lastSeq
    }

    /// Runs the follower streams (on the leader they push; elsewhere they idle).
    public nonisolated func run() async throws {
        await withDiscardingTaskGroup { tasks in
            for stream in streams {
                tasks.addTask { await stream.run() }
            }
            tasks.addTask {
                try? await gracefulShutdown()
                for stream in self.streams { await stream.stop() }
            }
        }
    }

    /// Commits one write on the leader (`write` runs inside the transaction that also appends the
    /// log entry) and waits until the followers in sync have it. Throws `NotLeader` elsewhere.
    public func commit<Value: Sendable>(
        requestID: String?,
        _ write: @escaping @Sendable (any SQLDatabase) async throws -> Outcome<Value>
    ) async throws -> Value {
        let (value, entry) = try await turn.run { () async throws -> (Value, ReplicationEntry?) in
            guard await self.group.isLeader else { throw NotLeader() }
            let seq = try await self.currentSeq() + 1
            let term = await self.group.term
            let result = try await self.log.database.transaction { db -> (Value, ReplicationEntry?) in
                let outcome = try await write(db)
                guard let effect = outcome.effect else { return (outcome.value, nil) }
                let entry = ReplicationEntry(seq: seq, term: term, requestID: requestID, effect: effect)
                try await ReplicationLog.append(entry, in: db)
                return (outcome.value, entry)
            }
            if let entry = result.1 {
                await self.advance(to: entry.seq)
                for stream in self.streams { await stream.enqueue(entry) }
            }
            return result
        }
        if let entry {
            await withDiscardingTaskGroup { tasks in
                for stream in streams {
                    tasks.addTask { await stream.waitUntilAcknowledged(entry.seq) }
                }
            }
        }
        return value
    }

    /// Applies a push from the leader. Answers how far this replica's log reaches.
    public func receive(_ batch: ReplicationBatch) async throws -> ReplicationAck {
        let arrival = ContinuousClock.now
        guard let leader = ReplicaName(batch.leader), await group.observe(leader: leader, term: batch.term) else {
            return ReplicationAck(replica: group.me.description, term: await group.term, lastSeq: try await currentSeq(), accepted: false)
        }
        let last = try await turn.run { () async throws -> Int64 in
            let current = try await self.currentSeq()
            guard batch.previousSeq <= current else { return current }
            let fresh = batch.entries.filter { $0.seq > current }
            guard !fresh.isEmpty else { return current }
            let applied = try await self.log.applyFromLeader(fresh, applyEffect: self.applyEffect)
            await self.advance(to: applied)
            return applied
        }
        let accepted = batch.previousSeq <= last
        lease.renew(at: arrival, caughtUp: accepted && last >= (batch.entries.last?.seq ?? batch.previousSeq))
        return ReplicationAck(replica: group.me.description, term: batch.term, lastSeq: last, accepted: accepted)
    }

    /// Whether this replica may serve reads: the leader always, a follower while its lease holds.
    public func canServeReads() async -> Bool {
        if await group.isLeader { return true }
        return lease.isValid()
    }

    /// Whether every follower is in sync (the leader's view), for `/replication/status`.
    public func followersInSync() async -> Bool {
        for stream in streams where !(await stream.isInSync) { return false }
        return true
    }

    private func advance(to seq: Int64) {
        lastSeq = max(lastSeq, seq)
    }
}
