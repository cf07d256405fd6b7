import BazarModels
import BazarService
import Logging

/// Watches the leader from a follower. When the leader has been silent for the election timeout,
/// it asks every peer for its replication status: it follows a replica that leads, and when none
/// does, the live replica with the most up-to-date log takes over (the lowest-numbered one on a
/// tie) in a term newer than any it heard of, provided its log reaches the newest term it knows.
/// A replica that was leader and comes back finds the new leader this way and follows it:
/// leadership is sticky. With three or more replicas a takeover needs a majority's votes instead
/// (`standForElection`).
actor LeaderElection {
    let replicator: Replicator
    let client: BackendClient
    let tokens: AccessTokens
    let settings: Replicator.Settings
    let logger: Logger
    let startedAt = ContinuousClock.now
    private var stopped = false

    init(replicator: Replicator, client: BackendClient, tokens: AccessTokens, settings: Replicator.Settings, logger: Logger) {
        self.replicator = replicator
        self.client = client
        self.tokens = tokens
        self.settings = settings
        self.logger = logger
    }

    func stop() { stopped = true }

    func run() async {
        let group = replicator.group
        var jitter = randomJitter()
        while !stopped, !Task.isCancelled {
            if !(await group.isLeader) {
                let silent = await group.lastContact.map { ContinuousClock.now - $0 }
                if silent.map({ $0 >= settings.electionTimeout + jitter }) ?? true {
                    await lookForLeader()
                    jitter = randomJitter()
                }
            }
            try? await Task.sleep(for: settings.heartbeat / 2)
        }
    }

    /// With three or more replicas, a random part of half an election timeout added to each wait:
    /// followers that lost their leader at the same moment do not all stand at once, split the
    /// vote, and stand again together (a pair elects without votes: no jitter).
    private func randomJitter() -> Duration {
        replicator.group.usesMajority ? settings.electionTimeout * Double.random(in: 0..<0.5) : .zero
    }

    func lookForLeader() async {
        let group = replicator.group
        let statuses = await probePeers()
        let term = await group.term
        if let leading = statuses.first(where: { $0.role == .leader && $0.term >= term && $0.leader == $0.replica }),
           let name = ReplicaName(leading.replica) {
            logger.info("following the leader a probe found", metadata: ["leader": "\(name)", "term": "\(leading.term)"])
            try? await replicator.follow(leader: name, term: leading.term)
            return
        }
        if group.usesMajority {
            await standForElection(statuses: statuses, term: term)
            return
        }
        // Nobody leads: the most up-to-date live replica takes over, the lowest-numbered on a tie.
        // A replica whose log is older than a term it knows of does not: that term's leader may
        // have acknowledged writes it lacks (it waits for that leader, or a replica that has them).
        let me = group.me
        let mine = await replicator.lastPosition()
        guard mine.term >= term else {
            await group.deferElection()
            return
        }
        let candidates = [(me, mine)] + statuses.compactMap { status in
            ReplicaName(status.replica).map { ($0, ReplicationLog.Position(seq: status.lastSeq, term: status.lastTerm)) }
        }
        let best = candidates.max { a, b in a.1 != b.1 ? a.1 < b.1 : a.0 > b.0 }!.0
        // After a start, a replica that hears from nobody waits an election timeout (and a
        // higher-numbered one one more per number) before it takes over: its peer may lead and
        // merely be slow to answer the probe, and that leader's next push makes this replica
        // follow it. (Taking over at once, a restarted replica led in the same term as the
        // leader it could not hear, and the pair's tie-break then dropped that leader's writes.)
        let grace = settings.electionTimeout * (group.rank + 1)
        guard best == me, statuses.isEmpty ? ContinuousClock.now - startedAt >= grace : true else {
            await group.deferElection()
            return
        }
        let newTerm = max(term, statuses.map(\.term).max() ?? 0) + 1
        do {
            try await replicator.becomeLeader(term: newTerm)
        } catch {
            logger.error("could not take over", metadata: ["error": "\(error)"])
        }
    }

    /// Three or more replicas: a candidacy in a new term, won with a majority of votes (this
    /// replica's own, stored, among them). Only when a majority answers the probe and none of
    /// them still hears from a leader: a replica cut off from the others (or from the leader
    /// alone) does not raise the term, which would depose the leader when it comes back.
    private func standForElection(statuses: [ReplicationStatus], term: Int64) async {
        let group = replicator.group
        let me = group.me
        // At start a higher-numbered replica gives lower-numbered ones time to stand first.
        let grace = settings.electionTimeout * group.rank
        let leaderHeard = statuses.contains { $0.role == .follower && $0.inSync && !$0.leader.isEmpty }
        guard ContinuousClock.now - startedAt >= grace, statuses.count + 1 >= group.majority, !leaderHeard else {
            await group.deferElection()
            return
        }
        let newTerm = max(term, statuses.map(\.term).max() ?? 0) + 1
        guard (try? await replicator.standForElection(term: newTerm)) == true else { return }
        let mine = await replicator.lastPosition()
        let request = VoteRequest(candidate: me.description, term: newTerm, lastSeq: mine.seq, lastTerm: mine.term)
        let votes = 1 + (await requestVotes(request)).filter { $0.granted && $0.term == newTerm }.count
        guard votes >= group.majority else {
            // A split or lost vote: a random part of an election timeout more, so that two
            // candidates do not keep colliding.
            logger.info("not elected", metadata: ["term": "\(newTerm)", "votes": "\(votes)"])
            await group.deferElection(extra: settings.electionTimeout * Double.random(in: 0..<1))
            return
        }
        do {
            try await replicator.becomeLeader(term: newTerm)
        } catch {
            logger.error("could not take over", metadata: ["error": "\(error)"])
        }
    }

    /// Asks every peer for its vote, a lease each to answer; done as soon as a majority (this
    /// replica's own vote included) granted it: a peer cut off from the others must not hold up
    /// the election it cannot take part in.
    private func requestVotes(_ request: VoteRequest) async -> [VoteAnswer] {
        let headers = [("Authorization", tokens.internalAuthorization)]
        let client = self.client, timeout = settings.lease, majority = replicator.group.majority
        guard let body = try? JSONResponse.encode(request) else { return [] }
        return await withTaskGroup(of: VoteAnswer?.self) { tasks in
            for peer in replicator.group.peers {
                tasks.addTask {
                    guard let reply = try? await client.send(.POST, peer.url + "/internal/replication/vote", body: body, headers: headers, timeout: timeout),
                          reply.isSuccess else { return nil }
                    return try? reply.decode(VoteAnswer.self)
                }
            }
            var answers: [VoteAnswer] = []
            for await answer in tasks {
                if let answer { answers.append(answer) }
                if 1 + answers.filter({ $0.granted && $0.term == request.term }).count >= majority {
                    tasks.cancelAll()
                    break
                }
            }
            return answers
        }
    }

    /// Every peer's replication status, each given a whole lease to answer: a leader slowed down
    /// by load is still a leader, and taking over from a live one (in a pair, nobody can tell)
    /// deposes it and fails its writes in flight. With three or more replicas the probe is done
    /// once a majority (this replica included) answered and none of them leads or hears a
    /// leader: the peers still silent are too few to confirm a leader, so none can be serving.
    func probePeers() async -> [ReplicationStatus] {
        let headers = [("Authorization", tokens.internalAuthorization)]
        let client = self.client, timeout = settings.lease
        let group = replicator.group
        return await withTaskGroup(of: ReplicationStatus?.self) { tasks in
            for peer in group.peers {
                tasks.addTask {
                    guard let reply = try? await client.send(.GET, peer.url + "/replication/status", headers: headers,
                                                             timeout: timeout),
                          reply.isSuccess else { return nil }
                    return try? reply.decode(ReplicationStatus.self)
                }
            }
            var statuses: [ReplicationStatus] = []
            for await status in tasks {
                if let status { statuses.append(status) }
                let leaderSeen = statuses.contains { $0.role == .leader || ($0.inSync && !$0.leader.isEmpty) }
                if group.usesMajority, statuses.count + 1 >= group.majority, !leaderSeen {
                    tasks.cancelAll()
                    break
                }
            }
            return statuses
        }
    }
}
