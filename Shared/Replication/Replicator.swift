import BazarModels
import BazarService
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization
import Tracing

/// A replica's write path. On the leader it commits each write together with its log entry,
/// hands the entry to every follower's stream and returns only when every in-sync follower has
/// acknowledged it. On a follower it applies the leader's entries in order, or installs the
/// leader's snapshot when its own log took another path.
public actor Replicator: Service {
    public nonisolated let group: ReplicaGroup
    public nonisolated let log: ReplicationLog
    nonisolated let streams: [FollowerStream]
    nonisolated let state: ReplicatedState
    nonisolated let logger: Logger
    nonisolated let settings: Settings
    nonisolated let client: BackendClient
    nonisolated let tokens: AccessTokens
    /// The commit index: moved here when this replica leads, learned from the leader's pushes when it follows.
    nonisolated let commitPoint: CommitPoint
    /// The shown point, for a service that announces its writes (the catalog tells its front ends
    /// which cached answers to drop): the highest entry that, with every one before it, is
    /// committed and announced. No answer shows more (G8 across front ends: a read through one
    /// front end must not show a write while another still serves the version before it from its
    /// cache). Moved here when this replica leads, learned from the leader's pushes when it
    /// follows; nil for a service that announces nothing.
    public nonisolated let shownPoint: CommitPoint?
    let turn: WriteTurn
    private var position = ReplicationLog.Position.start
    private var lease: ReadLease
    private var opened = false
    /// The newest batch seen, as (term, number): older ones arriving late are dropped.
    private var newestBatch: (term: Int64, number: Int64) = (0, -1)
    private var openWaiters: [CheckedContinuation<Void, Never>] = []
    /// Writes that began and ended their local transaction (at most one is in flight: the turn),
    /// and the reads that wait for the one in flight.
    private var writesBegun = 0
    private var writesEnded = 0
    private var readsWaiting: [(write: Int, continuation: CheckedContinuation<Void, Never>)] = []
    /// Writes waiting for the write turn; its next holder commits them all (group commit).
    private var queued: [QueuedWrite] = []
    /// Writes under way by request id, which their repeats join.
    private let attempts = SharedAttempts()
    /// Entries this leader committed whose writers have not announced them yet: the shown point
    /// stops before the first.
    private var unannounced: Set<EntryID> = []

    public struct Settings: Sendable {
        public var lease: Duration
        public var heartbeat: Duration
        /// Entries kept when the log is compacted; older ones reach a follower by snapshot.
        public var logKeep: Int64

        public init(lease: Duration = .milliseconds(1000), heartbeat: Duration = .milliseconds(200), logKeep: Int64 = 10_000) {
            self.lease = lease
            self.heartbeat = heartbeat
            self.logKeep = logKeep
        }

        /// How long a follower waits without word from its leader before it looks for a new one:
        /// longer than the lease, so the old leader's own read lease has run out by then.
        public var electionTimeout: Duration { lease + heartbeat }
    }

    public struct NotLeader: Error {}

    public init(
        group: ReplicaGroup, log: ReplicationLog, client: BackendClient, tokens: AccessTokens,
        settings: Settings, logger: Logger, store: some ReplicatedStore, announcesWrites: Bool = false
    ) {
        self.group = group
        self.log = log
        let state = ReplicatedState(store)
        self.state = state
        self.logger = logger
        self.settings = settings
        self.client = client
        self.tokens = tokens
        self.lease = ReadLease(duration: settings.lease)
        let turn = WriteTurn()
        self.turn = turn
        let commitPoint = CommitPoint()
        self.commitPoint = commitPoint
        let shownPoint = announcesWrites ? CommitPoint() : nil
        self.shownPoint = shownPoint
        self.streams = group.peers.map {
            FollowerStream(
                follower: $0, group: group, log: log, tokens: tokens,
                lease: settings.lease, heartbeat: settings.heartbeat, logger: logger, commitPoint: commitPoint, shownPoint: shownPoint,
                snapshot: { try await Self.snapshot(turn: turn, log: log, state: state, group: group) })
        }
    }

    // MARK: Start

    /// Creates the log's tables if need be, and loads the term and the log's end; replication
    /// starts only after this.
    public func open() async throws {
        try await log.database.transaction { try await ReplicationLog.createSchema($0) }
        let vote = try await log.storedVote().map { (term: $0.term, candidate: ReplicaName(service: group.me.service, number: $0.candidate)) }
        await group.restore(term: try await log.storedTerm(), vote: vote)
        position = try await log.lastPosition()
        opened = true
        for waiter in openWaiters { waiter.resume() }
        openWaiters.removeAll()
    }

    func waitUntilOpen() async {
        if opened { return }
        await withCheckedContinuation { openWaiters.append($0) }
    }

    /// Runs the follower streams (they push while this replica leads) and the leader election.
    public nonisolated func run() async throws {
        await waitUntilOpen()
        let election = LeaderElection(replicator: self, client: client, tokens: tokens, settings: settings, logger: logger)
        // A follower's answer that deposes this leader is reported here, to the owner of roles.
        for stream in streams { await stream.report(to: self) }
        await withDiscardingTaskGroup { tasks in
            for stream in streams {
                tasks.addTask { await stream.run() }
            }
            tasks.addTask { await election.run() }
            tasks.addTask {
                try? await gracefulShutdown()
                await election.stop()
                for stream in self.streams { await stream.stop() }
            }
        }
    }

    // MARK: Leader

    /// The end of this replica's log.
    public func lastPosition() -> ReplicationLog.Position { position }

    /// The newest sequence number in this replica's log.
    public func currentSeq() -> Int64 { position.seq }

    /// On the leader, each follower's lag behind this log's end and whether it is in sync (those
    /// that have not answered in this term are left out); empty on a follower.
    public func followerStandings() async -> [(follower: String, lag: Int64, inSync: Bool)] {
        guard await group.isLeader else { return [] }
        var standings: [(follower: String, lag: Int64, inSync: Bool)] = []
        for stream in streams {
            if let standing = await stream.standing(behind: position.seq) {
                standings.append((stream.follower.name.description, standing.lag, standing.inSync))
            }
        }
        return standings
    }

    /// The write path, on the leader: commits one write (`write` runs inside the transaction that
    /// also appends the log entry), waits until the followers in sync have it, announces its
    /// operation (`announce`: the catalog tells its front ends), and answers once the shown point
    /// covers it. At most once per request id: a request id that already has a stored answer gets
    /// it back, and `write` does not run. Throws `NotLeader` on a follower, or when this replica was
    /// deposed before its followers had the write.
    public func commit<Answer: Codable & Sendable, Operation: Codable & Sendable>(
        requestID: String?,
        _ write: @escaping @Sendable (any SQLDatabase) async throws -> Written<Answer, Operation>,
        announce: (@Sendable (Operation) async -> Void)? = nil
    ) async throws -> Committed<Answer, Operation> {
        let answer = QueuedAnswer<Committed<Answer, Operation>>()
        queued.append(QueuedWrite(answer: answer, announced: announce != nil && shownPoint != nil) { db, seq, term in
            if let requestID, let stored = try await ReplicationLog.result(for: requestID, in: db) {
                let earlier = try JSONResponse.decode(Answer.self, from: stored)
                answer.value.withLock { $0 = Committed(answer: earlier, operation: nil, isRepeat: true) }
                return nil
            }
            let written = try await write(db)
            answer.value.withLock { $0 = Committed(answer: written.answer, operation: written.operation, isRepeat: false) }
            guard let operation = written.operation else { return nil }
            // The answer is kept with the write it belongs to, here and on every replica.
            let result = try requestID.map { _ in try JSONResponse.encodeString(written.answer) }
            if let requestID, let result { try await ReplicationLog.recordResult(result, for: requestID, in: db) }
            // Its group appends it with the others' entries, in one statement (`commit(_:term:)`).
            return ReplicationEntry(
                seq: seq, term: term, requestID: requestID,
                effect: try JSONResponse.encodeString(LoggedWrite(operation: operation, result: result)))
        })
        // Whoever holds the turn commits every write queued by then, in one transaction: by the
        // time this caller's turn comes, its write may be committed already (group commit).
        try await turn.run("committing writes as leader, request \(requestID ?? "-") among them") { try await self.commitQueued() }
        guard let committed = answer.result.withLock({ $0 }) else { throw NotLeader() }
        let entry = try committed.get()
        guard let value = answer.value.withLock({ $0 }) else { throw NotLeader() }
        // What the answer shows: its own entry, or for a repeat an earlier attempt's, in the log.
        let shows = entry?.seq ?? position.seq
        do {
            if entry == nil, requestID != nil, group.usesMajority {
                // No new entry: the answer may be one stored by an earlier attempt of this request id,
                // committed here but perhaps not yet held by the followers. Answered only once they
                // hold everything this replica has (else a failover could lose what was answered).
                guard await majorityHoldsThisLog() else { throw NotLeader() }
            }
            if let entry {
                try await Traces.span("replicate", attributes: ["bazar.seq": .int64(entry.seq)]) { _ in try await acknowledge(entry) }
            }
        } catch {
            // Not acknowledged, but a majority may hold it once reachable again, and reads then show
            // it: announced all the same while this replica leads.
            if entry != nil, let operation = value.operation, await group.isLeader { await announce?(operation) }
            await announced(entry)
            throw error
        }
        if entry != nil, let operation = value.operation, let announce {
            await Traces.span("announce") { _ in await announce(operation) }
        }
        await announced(entry)
        // An answer without an entry of its own shows the log's end, which no write may move the
        // commit index to (a group of one has no heartbeats to do it either).
        if entry == nil { await refreshPoints() }
        guard await waitUntilShown(shows, timeout: settings.lease * 3) else {
            throw APIError.unavailable("\(group.me) committed the write but cannot show it yet; repeat it with the same key.")
        }
        return value
    }

    /// Waits until every in-sync follower holds `entry`, and a majority with three or more replicas.
    private func acknowledge(_ entry: ReplicationEntry) async throws {
        let acknowledged = await withTaskGroup(of: Bool.self) { tasks in
            for stream in streams {
                tasks.addTask { await stream.waitUntilAcknowledged(entry.seq) }
            }
            var all = true
            for await acknowledged in tasks { all = all && acknowledged }
            return all
        }
        // (The pair rules count no holders: the in-sync set alone decides.)
        let holders = group.usesMajority ? await holders(of: entry.seq) : 1
        guard CommitRule.mayAcknowledge(inSyncFollowersHoldIt: acknowledged, holders: holders, quorum: group.quorum) else {
            throw acknowledged ? Self.noMajority(group.me) : NotLeader()
        }
        commitPoint.advance(to: entry.seq)
    }

    /// `entry`'s writer is done announcing it (or gave up): the shown point may pass it.
    private func announced(_ entry: ReplicationEntry?) async {
        if let entry { unannounced.remove(EntryID(entry)) }
        await moveShownPoint()
    }

    /// On the leader, moves the shown point to the end of what is committed and announced. Not
    /// within a lease of taking over: a front end may still serve from its cache under the
    /// previous leader's grant, which no announcement of this leader reaches, and the entries
    /// inherited from that leader may not have been announced.
    private func moveShownPoint() async {
        guard let shownPoint, await group.isLeader else { return }
        if let tookOver = await group.tookOverAt, ContinuousClock.now < tookOver + settings.lease { return }
        var shown = commitPoint.seq
        if let first = unannounced.map(\.seq).min() { shown = min(shown, first - 1) }
        guard shown > shownPoint.seq else { return }
        shownPoint.advance(to: shown)
        for stream in streams { await stream.shownPointMoved() }
    }

    /// On the leader, with no write in flight: the log's end is committed once every in-sync
    /// follower (and a majority) holds it, and the shown point follows. Streams call this before
    /// each heartbeat: after a takeover or a quiet spell, a follower's reads must not wait for a
    /// read or a write on the leader to move the points they wait for.
    func refreshPoints() async {
        guard await group.isLeader, writesBegun == writesEnded else { return }
        let end = position.seq
        for stream in streams where !(await stream.holdsUnlessOutOfSync(end)) { return }
        if group.usesMajority, !group.quorum.isMet(by: await holders(of: end)) { return }
        guard await group.isLeader, writesBegun == writesEnded else { return }
        commitPoint.advance(to: end)
        await moveShownPoint()
    }

    /// True once the shown point covers `seq` (at once for a service that announces nothing);
    /// false after `timeout`. On the leader, the wait that follows a takeover ends here.
    private func waitUntilShown(_ seq: Int64, timeout: Duration) async -> Bool {
        guard let shownPoint, shownPoint.seq < seq else { return true }
        let deadline = ContinuousClock.now + timeout
        if await group.isLeader, let tookOver = await group.tookOverAt, ContinuousClock.now < tookOver + settings.lease {
            try? await Task.sleep(until: min(tookOver + settings.lease, deadline))
            await moveShownPoint()
        }
        return await shownPoint.wait(until: seq, timeout: max(.zero, deadline - .now))
    }

    /// The answer stored for `requestID` by an earlier attempt, given only once the followers hold
    /// everything this leader has, as a commit's would be: that attempt may have committed here
    /// and then failed to reach them (a leader cut off from its peers). Nil when none is stored.
    /// For a write whose attempt does more than commit (an order asks the catalog first).
    public func earlierAnswer<Answer: Decodable & Sendable>(_ type: Answer.Type, for requestID: String) async throws -> Answer? {
        guard let stored = try await log.database.read({ try await ReplicationLog.result(for: requestID, in: $0) }) else { return nil }
        let answer = try JSONResponse.decode(Answer.self, from: stored)
        // (With one or two replicas a leader that cannot reach its follower acknowledges alone
        // after a lease anyway: waiting would only slow repeats down under load.)
        guard group.usesMajority else { return answer }
        guard await majorityHoldsThisLog() else {
            if await group.isLeader { throw Self.noMajority(group.me) }
            throw NotLeader()
        }
        return answer
    }

    /// Whether this replica leads and a majority holds everything in its log. A leader deposed
    /// meanwhile does not qualify: its log may hold writes the new leader never had (committed
    /// here while it was cut off), and their stored answers must not be given.
    private func majorityHoldsThisLog() async -> Bool {
        guard await group.isLeader else { return false }
        return await acknowledgedWhatReadsShow()
    }

    /// How many replicas, this leader included, hold `seq`.
    private func holders(of seq: Int64) async -> Int {
        var holding = 1
        for stream in streams where await stream.holds(seq) { holding += 1 }
        return holding
    }

    static func noMajority(_ me: ReplicaName) -> APIError {
        APIError.unavailable("\(me) cannot reach a majority of its replicas: the write is not acknowledged.")
    }

    /// Commits every queued write in one transaction, in queue order, and hands each its entry;
    /// if that transaction fails, commits them one by one, so that one failing write fails alone.
    /// Runs inside the write turn.
    private func commitQueued() async throws {
        guard !queued.isEmpty else { return }
        let writes = queued
        queued.removeAll()
        guard await group.isLeader else {
            for write in writes { write.answer.complete(.failure(NotLeader())) }
            return
        }
        let term = await group.term
        do {
            try await commit(writes, term: term)
        } catch where writes.count > 1 {
            for write in writes {
                do { try await commit([write], term: term) } catch { write.answer.complete(.failure(error)) }
            }
        } catch {
            writes[0].answer.complete(.failure(error))
        }
    }

    /// One transaction for `writes`: each write's entry gets the next sequence number, the entries
    /// go into the log in one statement, the log's end moves once, and the followers' streams get
    /// the entries in order.
    private func commit(_ writes: [QueuedWrite], term: Int64) async throws {
        let first = position.seq + 1
        // From here until the log's end has moved, reads may see these writes before they are
        // counted in the position they wait for: they wait for this group to finish first.
        beginWrite()
        defer { endWrite() }
        let entries = try await log.database.transaction { db -> [ReplicationEntry?] in
            var next = first
            var entries: [ReplicationEntry?] = []
            for write in writes {
                let entry = try await write.run(db, next, term)
                if entry != nil { next += 1 }
                entries.append(entry)
            }
            try await ReplicationLog.append(entries.compactMap { $0 }, in: db)
            return entries
        }
        let appended = entries.compactMap { $0 }
        for (write, entry) in zip(writes, entries) where write.announced {
            if let entry { unannounced.insert(EntryID(entry)) }
        }
        if let last = appended.last {
            advance(to: ReplicationLog.Position(seq: last.seq, term: last.term))
            var origins: [Int64: WriteOrigin] = [:]
            for (write, entry) in zip(writes, entries) where write.origin.isKnown { if let entry { origins[entry.seq] = write.origin } }
            for stream in streams { await stream.enqueue(appended, origins: origins) }
        }
        for (write, entry) in zip(writes, entries) { write.answer.complete(.success(entry)) }
        if let last = appended.last, last.seq / 1000 > (first - 1) / 1000 {
            // The writes are committed whatever compaction does: a failure here is only logged.
            do { try await log.compact(keeping: settings.logKeep) } catch {
                logger.warning("could not compact the log", metadata: ["error": "\(error)"])
            }
        }
    }

    private func beginWrite() {
        writesBegun += 1
    }

    /// A write in flight (a leader's group, a follower's push or snapshot) may be visible to a
    /// read already, before `position` counts it: the read waits for it (not for later ones).
    private func waitForWriteInFlight() async {
        guard writesBegun > writesEnded else { return }
        let write = writesBegun
        await withCheckedContinuation { readsWaiting.append((write, $0)) }
    }

    private func endWrite() {
        writesEnded += 1
        let ready = readsWaiting.filter { $0.write <= writesEnded }
        readsWaiting.removeAll { $0.write <= writesEnded }
        for read in ready { read.continuation.resume() }
    }

    /// On the leader, waits until every write that a read made just now may show is held by every
    /// in-sync follower, so that no later read, from any replica, can show less (G8). A follower
    /// has nothing to wait for: what it shows, its leader holds. False when this replica stopped
    /// leading meanwhile: the read must not be answered.
    public func acknowledgedWhatReadsShow() async -> Bool {
        await acknowledgedVisibleEntries() != nil
    }

    /// Whether a read made just now may be answered: what it may show is acknowledged (above) and,
    /// for a service that announces its writes, shown (every front end has dropped what it
    /// replaces). On a follower the shown point arrives with the leader's pushes, which follow
    /// each move of it; on the leader it may wait for writers still announcing, or for a lease
    /// after taking over.
    public func mayAnswerRead() async -> Bool {
        guard shownPoint != nil else { return await acknowledgedWhatReadsShow() }
        guard await group.isLeader else {
            // (The shown point never passes the commit index: it is the only wait a follower needs.)
            await waitForWriteInFlight()
            return await waitUntilShown(position.seq, timeout: settings.lease)
        }
        guard let visible = await acknowledgedVisibleEntries() else { return false }
        await moveShownPoint()
        return await waitUntilShown(visible, timeout: settings.lease * 3)
    }

    /// The end of what a read made just now may show, once it is acknowledged as above; nil when
    /// it may not be answered.
    private func acknowledgedVisibleEntries() async -> Int64? {
        guard await group.isLeader else {
            await waitForWriteInFlight()
            let visible = position.seq
            return await committedWhatReadsShow(visible) ? visible : nil
        }
        await waitForWriteInFlight()
        let visible = position.seq
        for stream in streams where !(await stream.waitUntilAcknowledged(visible)) { return nil }
        if group.usesMajority, !group.quorum.isMet(by: await holders(of: visible)) { return nil }
        guard await group.isLeader else { return nil }
        commitPoint.advance(to: visible)
        return visible
    }

    /// On a follower (three or more replicas), waits until the leader's commit index covers
    /// everything a read made just now may show, a lease at most: with two followers, one applies
    /// an entry before the other has it, and must not show it until both do (G8). With one or two
    /// replicas there is no other follower to disagree with.
    private func committedWhatReadsShow(_ visible: Int64) async -> Bool {
        guard group.usesMajority else { return true }
        // The index arrives with the leader's next push or heartbeat.
        return await commitPoint.wait(until: visible, timeout: settings.lease)
    }

    /// Runs a write's whole attempt (what it asks of other services, its commit, what it tells
    /// afterwards) at most once at a time per request id: a repeat that arrives meanwhile (a
    /// caller's retry after its timeout) gets the same answer instead of running beside it. A
    /// write without a request id just runs. Not to be nested with the same request id and answer
    /// type: the inner call would wait for the outer one.
    public nonisolated func once<Answer: Sendable>(
        requestID: String?, _ attempt: @escaping @Sendable () async throws -> Answer
    ) async throws -> Answer {
        guard let requestID else { return try await attempt() }
        return try await attempts.run(requestID, attempt)
    }

    /// Starts a candidacy in `term` (three or more replicas): stores the term and this replica's
    /// vote for itself, before any other replica is asked. False when a term this new arrived
    /// meanwhile.
    func standForElection(term: Int64) async throws -> Bool {
        try await turn.run("standing for election in term \(term)") {
            guard await self.group.term < term else { return false }
            let wasLeader = await self.group.isLeader
            try await self.log.storeVote(term: term, candidate: self.group.me.number)
            await self.group.recordVote(term: term, for: self.group.me)
            if wasLeader { await self.abandonLeadership() }
            return true
        }
    }

    /// A candidate's vote request (three or more replicas): granted at most once per term, with
    /// the vote stored first, to a candidate whose log is at least as up to date as this one's.
    /// Refused while this replica still hears from a live leader: a replica that was cut off and
    /// comes back with a newer term must not depose a leader the others follow.
    public func vote(_ request: VoteRequest) async throws -> VoteAnswer {
        try await turn.run("deciding a vote in term \(request.term)") { try await self.decideVote(request) }
    }

    /// Applies `VoteRule`'s decision: the adopted term and the vote are stored before the answer.
    private func decideVote(_ request: VoteRequest) async throws -> VoteAnswer {
        let rule = VoteRule(
            me: group.me, term: await group.term, votedFor: await group.votedFor, lastTerm: position.term, lastSeq: position.seq,
            hearsLiveLeader: request.term > (await group.term) ? await leaderIsLive() : false)
        let decision = rule.decide(request)
        if decision.adoptsTerm {
            let wasLeader = await group.isLeader
            try await log.storeTerm(request.term)
            await group.adopt(term: request.term)
            if wasLeader { await abandonLeadership() }
        }
        guard decision.grants, let candidate = ReplicaName(request.candidate) else { return await voteAnswer(granted: false) }
        try await log.storeVote(term: request.term, candidate: candidate.number)
        await group.recordVote(term: request.term, for: candidate)
        logger.info("voted", metadata: ["candidate": "\(candidate)", "term": "\(request.term)"])
        return await voteAnswer(granted: true)
    }

    private func voteAnswer(granted: Bool) async -> VoteAnswer {
        VoteAnswer(replica: group.me.description, term: await group.term, granted: granted)
    }

    /// Whether this replica sees a live leader: it leads with a majority's confirmation within
    /// the lease, or it follows a leader heard from within the election timeout.
    private func leaderIsLive() async -> Bool {
        if await group.isLeader { return await canServeReads() }
        guard await group.leader != nil, let heard = await group.leaderHeardAt else { return false }
        return ContinuousClock.now - heard < settings.electionTimeout
    }

    /// Takes over as leader in `term`. With three or more replicas, only as the candidate of that
    /// term (a vote it won may arrive after the term moved on, or after the winner's first push).
    public func becomeLeader(term: Int64) async throws {
        let took = try await turn.run("taking over as leader in term \(term)") { () async throws -> Bool in
            if self.group.usesMajority {
                guard await self.group.term == term, await self.group.votedFor == self.group.me, await self.group.leader == nil else { return false }
            }
            try await self.log.storeTerm(term)
            for stream in self.streams { await stream.reset() }
            await self.forgetUnannounced()
            await self.group.becomeLeader(term: term)
            await self.revokeLease()
            // The term's first entry: followers that hold it may take over from this leader.
            let start = ReplicationEntry.termStart(seq: await self.currentSeq() + 1, term: term)
            try await self.log.database.transaction { try await ReplicationLog.append(start, in: $0) }
            await self.advance(to: ReplicationLog.Position(seq: start.seq, term: term))
            for stream in self.streams { await stream.enqueue([start]) }
            return true
        }
        guard took else { return }
        logger.notice("became leader", metadata: ["term": "\(term)", "seq": "\(position.seq)"])
        ReplicationMetrics.tookOver()
    }

    /// Follows `leader` in `term`, as a probe found it.
    func follow(leader: ReplicaName, term: Int64) async throws {
        let wasLeader = await group.isLeader
        if case .accepted(let changed) = await group.observe(leader: leader, term: term) {
            if changed { try await turn.run("storing term \(term)") { try await self.log.storeTerm(term) } }
            if wasLeader, !(await group.isLeader) { await abandonLeadership() }
        }
    }

    /// A follower answered from a newer term (or follows a lower-numbered leader of this one):
    /// this replica stops leading, stores the newer term, and its streams start over.
    func deposed(term: Int64, leader: ReplicaName?) async {
        let wasLeader = await group.isLeader, before = await group.term
        await group.stepDown(term: term, leader: leader)
        if term > before {
            do { try await turn.run("storing term \(term)") { try await self.log.storeTerm(term) } } catch {
                // A vote stores its term again before it is given: the term is only lost, not wrong.
                logger.warning("could not store the newer term", metadata: ["term": "\(term)", "error": "\(error)"])
            }
        }
        if wasLeader, !(await group.isLeader) { await abandonLeadership() }
    }

    // MARK: Follower

    /// Applies a push from the leader. Answers how far this replica's log reaches.
    public func receive(_ batch: ReplicationBatch) async throws -> ReplicationAck {
        let sent = ReadLease.instant(sentAt: batch.sentAt)
        guard isNewest(term: batch.term, number: batch.number) else { return await refusal() }
        guard try await accept(leader: batch.leader, term: batch.term) else { return await refusal() }
        let pushed = try await turn.run("applying \(batch.summary)") { () async throws -> Pushed in
            // A newer push of this term came in while this one waited: the leader gave up on
            // this one, and applying it anyway would only put the follower further behind.
            // (Answered with what is committed, not the log's end: before this leader's first
            // push applies, the end may be another leader's entries, and the leader counts an
            // accepted end as its own.)
            guard await self.isLatest(term: batch.term, number: batch.number) else {
                return .superseded(at: min(await self.currentSeq(), self.commitPoint.seq))
            }
            // Its transaction commits before `position` moves: reads in between wait (below).
            // `position` moves inside the turn, so that whoever holds it next knows the log's end.
            await self.beginWrite()
            do {
                let applied = try await self.log.applyFromLeader(batch, end: await self.lastPosition(), applyEffect: self.state.apply)
                if case .appended(let last) = applied { await self.appended(through: last, from: batch) }
                return .applied(applied)
            } catch {
                await self.endWrite()
                throw error
            }
        }
        let applied: ReplicationLog.Applied
        switch pushed {
        case .applied(let outcome): applied = outcome
        case .superseded(let seq): return await acknowledgement(accepted: true, lastSeq: seq)
        }
        defer { endWrite() }
        switch applied {
        case .appended(let last):
            if !batch.entries.isEmpty {
                // Each write's request id, so that one id finds a purchase on every replica it reached.
                logger.debug("applied entries from the leader", metadata: [
                    "leader": "\(batch.leader)", "first": "\(batch.entries.first!.seq)", "last": "\(last)",
                    "request_ids": "\((batch.requestIDs ?? []).joined(separator: ","))",
                    "write_keys": "\(batch.entries.compactMap(\.requestID).joined(separator: ","))",
                ])
            }
            if let committed = batch.committedSeq { commitPoint.advance(to: committed) }
            // (Up to this replica's end: entries past it may still be replaced by the leader's.)
            if let shown = batch.shownSeq { shownPoint?.advance(to: min(shown, last)) }
            if last / 1000 > batch.previousSeq / 1000 {
                try await turn.run("compacting the log") { try await self.log.compact(keeping: self.settings.logKeep) }
            }
            lease.renew(at: sent, granted: batch.leaseMilliseconds.map { .milliseconds($0) },
                        caughtUp: batch.inSync && last >= (batch.entries.last?.seq ?? batch.previousSeq))
            return await acknowledgement(accepted: true)
        case .gap:
            lease.renew(at: sent, caughtUp: false)
            return await acknowledgement(accepted: false)
        case .diverged:
            lease.revoke()
            logger.notice("log diverged from the leader's: asking for a snapshot", metadata: ["leader": "\(batch.leader)"])
            return await acknowledgement(accepted: false, needsSnapshot: true)
        }
    }

    /// Replaces this replica's state by the leader's snapshot.
    public func install(_ snapshot: ReplicationSnapshot) async throws -> ReplicationAck {
        let sent = ReadLease.instant(sentAt: snapshot.sentAt)
        guard isNewest(term: snapshot.term, number: snapshot.number) else { return await refusal() }
        guard try await accept(leader: snapshot.leader, term: snapshot.term) else { return await refusal() }
        try await turn.run("installing a snapshot up to \(snapshot.lastSeq) from \(snapshot.leader)") {
            await self.beginWrite()
            do {
                try await self.log.database.transaction { db in
                    try await self.state.replace(snapshot.state, db)
                    try await ReplicationLog.install(snapshot, in: db)
                }
                await self.installed(snapshot)
            } catch {
                await self.endWrite()
                throw error
            }
        }
        defer { endWrite() }
        // Caught up, but not yet counted in sync by the leader: reads wait for the next batch.
        lease.renew(at: sent, caughtUp: false)
        logger.notice("installed the leader's snapshot", metadata: ["leader": "\(snapshot.leader)", "seq": "\(snapshot.lastSeq)"])
        ReplicationMetrics.snapshotInstalled()
        return await acknowledgement(accepted: true)
    }

    /// Whether this replica may serve reads: a follower while its lease holds; the leader while
    /// every in-sync follower has confirmed its leadership within the lease.
    public func canServeReads() async -> Bool {
        let now = ContinuousClock.now
        guard await group.isLeader else { return lease.isValid(at: now) }
        return await leaseEnd().holds(at: now)
    }

    /// When the leader's own lease ends, as its followers' confirmations tell (`LeaderLease`);
    /// each push grants the follower what is left of it.
    func leaseEnd() async -> LeaderLease.End<ContinuousClock.Instant> {
        var followers: [(confirmedUntil: ContinuousClock.Instant?, inSync: Bool)] = []
        for stream in streams { followers.append(await stream.leaseStanding()) }
        return LeaderLease.end(followers: followers, quorum: group.quorum)
    }

    // MARK: Helpers

    /// Drops a message that arrives after a newer one of the same term.
    private func isNewest(term: Int64, number: Int64) -> Bool {
        if term == newestBatch.term, number <= newestBatch.number { return false }
        if term >= newestBatch.term { newestBatch = (term, number) }
        return true
    }

    /// Whether no newer message has arrived since this one was let in.
    private func isLatest(term: Int64, number: Int64) -> Bool {
        term > newestBatch.term || (term == newestBatch.term && number >= newestBatch.number)
    }

    private func accept(leader name: String, term: Int64) async throws -> Bool {
        guard let leader = ReplicaName(name) else { return false }
        let wasLeader = await group.isLeader
        // The election timer runs from when the leader was last heard, on this replica's clock: a
        // push that arrives late still shows the leader alive (the read lease counts from the send).
        guard case .accepted(let changed) = await group.observe(leader: leader, term: term) else { return false }
        if changed { try await turn.run("storing term \(term)") { try await self.log.storeTerm(term) } }
        if wasLeader, !(await group.isLeader) { await abandonLeadership() }
        return true
    }

    private func abandonLeadership() async {
        let leader = await group.leader?.description ?? "", term = await group.term
        logger.notice("stepped down", metadata: ["leader": "\(leader)", "term": "\(term)"])
        for stream in streams { await stream.reset() }
    }

    private func refusal() async -> ReplicationAck {
        ReplicationAck(replica: group.me.description, term: await group.term, leader: await group.leader?.description,
                       lastSeq: position.seq, accepted: false)
    }

    private func acknowledgement(accepted: Bool, needsSnapshot: Bool = false, lastSeq: Int64? = nil) async -> ReplicationAck {
        ReplicationAck(replica: group.me.description, term: await group.term, leader: await group.leader?.description,
                       lastSeq: lastSeq ?? position.seq, accepted: accepted, needsSnapshot: needsSnapshot)
    }

    /// What became of a push: applied (as far as it went), or replaced by a newer one while it
    /// waited for the write turn, when the follower's log ended at `at`.
    enum Pushed: Sendable {
        case applied(ReplicationLog.Applied)
        case superseded(at: Int64)
    }

    /// A follower's log now ends at `last`, an entry of `batch` unless the batch added none.
    private func appended(through last: Int64, from batch: ReplicationBatch) {
        advance(to: ReplicationLog.Position(seq: last, term: batch.entries.last { $0.seq == last }?.term ?? position.term))
    }

    /// A snapshot replaced this replica's log (its end may move back).
    private func installed(_ snapshot: ReplicationSnapshot) {
        position = ReplicationLog.Position(seq: snapshot.lastSeq, term: snapshot.lastTerm)
    }

    private func advance(to newPosition: ReplicationLog.Position) {
        if newPosition.seq > position.seq { position = newPosition }
    }

    private func revokeLease() { lease.revoke() }

    /// A new term's leader counts no earlier term's writers: what they committed is shown a lease
    /// after it takes over.
    private func forgetUnannounced() { unannounced.removeAll() }

    /// The leader's whole state, taken between two writes.
    static func snapshot(turn: WriteTurn, log: ReplicationLog, state: ReplicatedState, group: ReplicaGroup) async throws -> ReplicationSnapshot {
        let leader = group.me.description
        let term = await group.term
        return try await turn.run("taking a snapshot for a follower") {
            try await log.database.read { db in
                let last = try await ReplicationLog.lastPosition(in: db)
                return ReplicationSnapshot(
                    leader: leader, term: term, lastSeq: last.seq, lastTerm: last.term,
                    state: try await state.export(db), results: try await ReplicationLog.allResults(in: db))
            }
        }
    }
}

/// A write waiting to be committed: it runs in a group's transaction with the sequence number and
/// term its entry gets (when it makes one), and its answer receives the outcome.
struct QueuedWrite: Sendable {
    let answer: any WriteAnswer
    /// Whether its writer announces its entry before the shown point may pass it.
    let announced: Bool
    /// Makes the write inside its group's transaction and returns its log entry (at `seq`, in
    /// `term`), which the group appends with the others' entries; nil when it wrote nothing.
    let run: @Sendable (any SQLDatabase, _ seq: Int64, _ term: Int64) async throws -> ReplicationEntry?
    let origin: WriteOrigin

    init(answer: any WriteAnswer, announced: Bool = false, origin: WriteOrigin = .current,
         run: @escaping @Sendable (any SQLDatabase, Int64, Int64) async throws -> ReplicationEntry?) {
        self.answer = answer
        self.announced = announced
        self.origin = origin
        self.run = run
    }
}

/// The client request a write serves, as far as the followers' logs and traces care: the push
/// that carries its entry names the request (`X-Request-ID`) and belongs to its trace.
struct WriteOrigin: Sendable {
    var requestID: String?
    var trace: ServiceContext?

    static var current: WriteOrigin { WriteOrigin(requestID: ClientRequest.id, trace: ServiceContext.current) }
    var isKnown: Bool { requestID != nil || trace != nil }
}

/// A log entry as the leader's writers know it: a term's entry, not only a sequence number (an
/// earlier term's writer must not count a later entry of the same number as announced).
struct EntryID: Hashable, Sendable {
    let term: Int64
    let seq: Int64

    init(_ entry: ReplicationEntry) {
        term = entry.term
        seq = entry.seq
    }
}

protocol WriteAnswer: Sendable {
    func complete(_ result: Result<ReplicationEntry?, any Error>)
}

/// Where a committed write's value and entry wait for its caller. The value is set by each run of
/// the write (a group that rolled back runs it again alone); the result only once it committed.
final class QueuedAnswer<Value: Sendable>: WriteAnswer {
    let value = Mutex<Value?>(nil)
    let result = Mutex<Result<ReplicationEntry?, any Error>?>(nil)

    func complete(_ outcome: Result<ReplicationEntry?, any Error>) {
        result.withLock { $0 = outcome }
    }
}
