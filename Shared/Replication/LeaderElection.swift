import BazarModels
import BazarService
import Logging

/// Watches the leader from a follower, the driver of `ElectionRule`: when the leader has been
/// silent for the election timeout, it asks every peer for its replication status, and the rule
/// decides from the answers whether this replica follows a replica that leads, takes over (the
/// pair rules), stands for election (the majority rules) or waits. A replica that was leader and
/// comes back finds the new leader this way and follows it: leadership is sticky.
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

    /// Probes the peers and carries out what `ElectionRule` decides from their answers.
    func lookForLeader() async {
        let group = replicator.group
        let statuses = await probePeers()
        let mine = await replicator.lastPosition()
        let rule = ElectionRule(me: group.me, rank: group.rank, quorum: group.quorum, term: await group.term,
                                lastTerm: mine.term, lastSeq: mine.seq, sinceStart: ContinuousClock.now - startedAt,
                                electionTimeout: settings.electionTimeout)
        switch rule.decide(statuses) {
        case .follow(let leader, let term):
            logger.info("following the leader a probe found", metadata: ["leader": "\(leader)", "term": "\(term)"])
            try? await replicator.follow(leader: leader, term: term)
        case .wait:
            await group.deferElection()
        case .takeOver(let term):
            await takeOver(term: term)
        case .stand(let term):
            await stand(term: term, rule: rule)
        }
    }

    /// Three or more replicas: a candidacy in a new term, won with a majority of votes (this
    /// replica's own, stored, among them).
    private func stand(term: Int64, rule: ElectionRule) async {
        guard (try? await replicator.standForElection(term: term)) == true else { return }
        let mine = await replicator.lastPosition()
        let request = VoteRequest(candidate: replicator.group.me.description, term: term, lastSeq: mine.seq, lastTerm: mine.term)
        let answers = await requestVotes(request)
        guard rule.isElected(term: term, answers: answers) else {
            // A split or lost vote: a random part of an election timeout more, so that two
            // candidates do not keep colliding.
            let votes = 1 + answers.filter { $0.granted && $0.term == term }.count
            logger.info("not elected", metadata: ["term": "\(term)", "votes": "\(votes)"])
            await replicator.group.deferElection(extra: settings.electionTimeout * Double.random(in: 0..<1))
            return
        }
        await takeOver(term: term)
    }

    private func takeOver(term: Int64) async {
        do {
            try await replicator.becomeLeader(term: term)
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
