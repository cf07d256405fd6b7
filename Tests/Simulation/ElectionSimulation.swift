import BazarModels
import BazarReplication

/// A seeded, deterministic simulation of the replication protocol's rules among 3 to 7 replicas:
/// `ElectionRule`, `VoteRule`, `StepDownRule`, `Quorum` and `CommitRule` decide, exactly as the
/// replicas' drivers ask them; the simulation stands in for the drivers' I/O (probes, votes,
/// pushes and their acknowledgements as messages; timers as ticks of a virtual clock; stored
/// terms, votes and log entries as what survives a crash).
///
/// The network delivers each message after a random delay (so messages overtake each other),
/// drops some, duplicates some, and cuts the group into two sides for a while; replicas crash
/// (losing all but what they stored) and restart. Everything random comes from one seed, so a
/// seed replays the same schedule exactly. After every step the simulation checks:
/// - election safety: at most one replica leads any term;
/// - log safety: every committed entry stays where it was committed, with its term, on every
///   later leader and in every later commit (no acknowledged write is lost or replaced).
struct ElectionSimulation {
    struct Settings {
        var replicas: Int
        /// Virtual time, in milliseconds.
        var duration = 12_000
        var heartbeat = 200
        var lease = 1_000
        var electionTimeout: Int { lease + heartbeat }
        /// Which faults: any (the majority rules' model), or one at a time (the pair rules').
        var faults = Faults.any
        enum Faults { case any, oneAtATime }
        /// The longest a message takes: up to a lease, so that pushes and votes arrive late.
        var maxDelay = 400
        var dropPercent = 5
        var duplicatePercent = 3
        /// How long a leader waits for a push's answer (`FollowerStream.pushTimeout`).
        var pushTimeout: Int { lease / 2 }
        /// For the tests' own check: the rule before `LeaderLease.end`, where every push granted a
        /// whole lease, whatever was left of the leader's own.
        var pushesGrantWholeLeases = false
        /// For the tests' own check: the rule before `FollowerStream.matched`, where a refused
        /// push's answer (a gap) counted the follower's log end as held for a commit.
        var countsRefusals = false
        /// For the tests' own check: the pair rules before `ElectionRule.pairTerm`, where both of a
        /// pair took over in the next term after any they heard of.
        var pairsShareTerms = false
        /// For the tests' own check: every vote is granted, whatever `VoteRule` decides.
        var grantsEveryVote = false
    }

    enum Message {
        case statusRequest(from: Int)
        case status(ReplicationStatus)
        case voteRequest(VoteRequest)
        case vote(VoteAnswer)
        case push(Push)
        case ack(ReplicationAck, number: Int64)
    }

    /// A leader's push: the entries after `previousSeq` (whose term it names), in its term.
    struct Push {
        var leader: ReplicaName
        var term: Int64
        var number: Int64
        var previousSeq: Int64
        var previousTerm: Int64
        var entries: [Entry]
        var sentAt: Int
        /// Whether the follower may serve reads under it (`ReplicationBatch.inSync`).
        var inSync: Bool
        /// What it grants the follower (`ReplicationBatch.leaseMilliseconds`).
        var leaseLeft: Int
    }

    /// A leader's stream to one follower (`FollowerStream`): one push in flight, the follower's
    /// standing as its answers tell it.
    struct Stream {
        var inSync = true
        /// Where the next push starts: the follower's log end as it last said; nil before its
        /// first answer.
        var resumeAt: Int64?
        /// How far the follower's log is known to be this leader's (only an accepted push says
        /// so): what counts for a commit.
        var matched: Int64 = 0
        var confirmedAt: Int?
        var failingSince: Int?
        var inFlight: (number: Int64, sentAt: Int, lastSeq: Int64)?
    }

    struct Envelope {
        var from: Int
        var to: Int
        var message: Message
    }

    /// A log entry: its term, and which replica wrote it. Replicas compare terms only, as
    /// `ReplicationLog` does; the checks compare the writer too, so that two leaders of one term
    /// (the pair rules allow that briefly) writing different entries at one place is seen.
    struct Entry: Equatable, CustomStringConvertible {
        var term: Int64
        var writer: Int
        var description: String { "\(term)/\(writer + 1)" }
    }

    struct Replica {
        let name: ReplicaName
        // Stored: survives a crash.
        var term: Int64 = 0
        var vote: (term: Int64, candidate: ReplicaName)?
        /// Entry `seq` is `log[seq - 1]`.
        var log: [Entry] = []
        // Lost in a crash.
        var up = true
        /// When a crashed replica restarts, and until when a paused one sleeps (one fault at a time).
        var restartAt: Int?
        var pausedUntil: Int?
        var startedAt = 0
        var leader: ReplicaName?
        var lastContact: Int?
        var leaderHeardAt: Int?
        var jitter = 0
        var newestPush: (term: Int64, number: Int64) = (0, 0)
        /// A follower's read lease (`ReadLease`): until when the pushes it accepted grant it.
        var leaseUntil: Int?
        var caughtUp = false
        var probe: (answers: [ReplicationStatus], deadline: Int)?
        var candidacy: (term: Int64, answers: [VoteAnswer], deadline: Int)?
        // A leader's view of each follower: how far its log is known to match, when it last confirmed.
        var streams: [Int: Stream] = [:]
        var pushNumber: Int64 = 0

        var votedFor: ReplicaName? { vote.flatMap { $0.term == term ? $0.candidate : nil } }
        var isLeader: Bool { leader == name }
        var lastTerm: Int64 { log.last?.term ?? 0 }
        var lastSeq: Int64 { Int64(log.count) }

        mutating func crash() {
            up = false
            pausedUntil = nil
            leader = nil
            lastContact = nil
            leaderHeardAt = nil
            probe = nil
            candidacy = nil
            streams = [:]
            leaseUntil = nil
            caughtUp = false
            newestPush = (0, 0)
        }
    }

    struct Violation: Error, CustomStringConvertible {
        var seed: UInt64
        var time: Int
        var what: String
        /// False for a group that elected nobody in time: liveness, not safety.
        var isSafety = true
        /// A replica served a read without a committed entry (G7/G8), as opposed to a split or lost log.
        var isStaleRead = false
        var description: String { "seed \(seed), at \(time) ms: \(what)" }
    }

    let seed: UInt64
    let settings: Settings
    var random: SeededRandom
    var replicas: [Replica]
    var now = 0
    var inFlight: [Int: [Envelope]] = [:]
    /// Replicas on side A of a partition (nil: none); messages between the sides are lost.
    var sideA: Set<Int>?
    /// A one-way cut: what `from` sends `to` is lost, not the other way.
    var oneWay: (from: Int, to: Int)?
    /// The end of what is committed, and that entry's term.
    var committedEnd: (seq: Int64, entry: Entry) = (0, Entry(term: 0, writer: -1))
    var leaders: [Int64: ReplicaName] = [:]
    /// Every committed entry: its term, and the term of the leader that committed it.
    var committed: [Int64: (entry: Entry, inTerm: Int64, by: ReplicaName)] = [:]
    /// Decisions, votes and role changes, one line each, when tracing (a replayed seed).
    var trace: [String]?
    mutating func note(_ line: @autoclosure () -> String) { trace?.append("\(now) ms \(line())") }
    /// What happened, for a failure's report.
    private(set) var stats = Stats()

    struct Stats {
        var elections = 0
        var commits = 0
        var crashes = 0
        var partitions = 0
        var pauses = 0
        var delivered = 0
        /// How long after the heal the group first committed a write, in milliseconds.
        var settledIn = 0
    }

    static let step = 10
    /// How long, in election timeouts, a healed group may take to commit again.
    static let settleTimeouts = 30

    init(seed: UInt64, settings: Settings) {
        self.seed = seed
        self.settings = settings
        random = SeededRandom(seed: seed)
        replicas = (0..<settings.replicas).map { Replica(name: ReplicaName(service: "catalog", number: $0 + 1)) }
    }

    var quorum: Quorum { Quorum(replicas: replicas.count) }

    /// Runs the whole schedule; throws the first violation found.
    mutating func run() throws -> Stats {
        while now < settings.duration {
            switch settings.faults {
            case .any: injectFaults()
            case .oneAtATime: injectOneFault()
            }
            try advance()
        }
        // Heal everything and let the group settle: a leader must emerge and commit.
        sideA = nil
        oneWay = nil
        for index in replicas.indices where !replicas[index].up { restart(index) }
        for index in replicas.indices { replicas[index].pausedUntil = nil }
        let settleUntil = now + Self.settleTimeouts * settings.electionTimeout
        let commitsBefore = stats.commits
        let healedAt = now
        while now < settleUntil, stats.commits == commitsBefore { try advance() }
        stats.settledIn = now - healedAt
        guard stats.commits > commitsBefore else {
            throw Violation(seed: seed, time: now, what: "no write was committed in \(Self.settleTimeouts * settings.electionTimeout) ms after every fault healed: \(summary)", isSafety: false)
        }
        return stats
    }

    /// One step of virtual time: the messages due are delivered (lost to a crashed replica, held
    /// for a paused one), the timers due run, and the reads are checked.
    mutating func advance() throws {
        let due = inFlight.removeValue(forKey: now) ?? []
        for envelope in due where replicas[envelope.to].up {
            if let until = replicas[envelope.to].pausedUntil, until > now {
                inFlight[until, default: []].append(envelope)
                continue
            }
            stats.delivered += 1
            try deliver(envelope)
        }
        // Each replica's timer runs every half heartbeat, at a phase of its own.
        var ticked = false
        for index in replicas.indices where replicas[index].up && (now + index * 30) % (settings.heartbeat / 2) == 0 {
            if let until = replicas[index].pausedUntil {
                guard now >= until else { continue }
                replicas[index].pausedUntil = nil
            }
            try tick(index)
            ticked = true
        }
        // (Only a message or a timer can start a replica serving or move the commit; time
        // alone only ends leases.)
        if ticked || !due.isEmpty { try checkReads() }
        now += Self.step
    }

    // MARK: Faults

    /// The faults the pair rules are built for (docs/consistency.md, "Fault model"): one at a
    /// time, and only once the group is whole again (every replica up and in sync with one
    /// leader): a replica crashes and restarts, or is paused (SIGSTOP) for up to three leases.
    /// Messages are slow and sometimes arrive twice but are not lost, and nothing is cut.
    mutating func injectOneFault() {
        guard now % 100 == 0 else { return }
        for index in replicas.indices where !replicas[index].up {
            if let at = replicas[index].restartAt, now >= at { restart(index) }
        }
        guard isWhole else { return }
        let roll = random.below(1000)
        let victim = random.below(replicas.count)
        if roll < 40 {
            replicas[victim].crash()
            replicas[victim].restartAt = now + 100 * (1 + random.below(3 * settings.lease / 100))
            stats.crashes += 1
            let line = "\(replicas[victim].name) crashes (log \(replicas[victim].lastTerm)/\(replicas[victim].lastSeq))"
            note(line)
        } else if roll < 80 {
            let until = now + Self.step * (1 + random.below(3 * settings.lease / Self.step))
            replicas[victim].pausedUntil = until
            stats.pauses += 1
            let line = "\(replicas[victim].name) paused until \(until) ms"
            note(line)
        }
    }

    /// Every replica up and running, one leader, every other replica following it, in sync and
    /// holding its whole log.
    var isWhole: Bool {
        guard replicas.allSatisfy({ $0.up && $0.pausedUntil == nil }),
              let leader = replicas.firstIndex(where: \.isLeader) else { return false }
        let l = replicas[leader]
        return replicas.indices.allSatisfy { index in
            index == leader || (replicas[index].leader == l.name && replicas[index].term == l.term
                && l.streams[index].map { $0.inSync && $0.matched == l.lastSeq } ?? false)
        }
    }

    mutating func injectFaults() {
        guard now % 100 == 0 else { return }
        let roll = random.below(1000)
        if roll < 12, let victim = replicas.indices.filter({ replicas[$0].up }).randomElement(using: &random),
           replicas.filter(\.up).count > 1 {
            replicas[victim].crash()
            stats.crashes += 1
            let line = "\(replicas[victim].name) crashes (log \(replicas[victim].lastTerm)/\(replicas[victim].lastSeq))"
            note(line)
        } else if roll < 30, let sleeper = replicas.indices.filter({ !replicas[$0].up }).randomElement(using: &random) {
            restart(sleeper)
        } else if roll < 36, sideA == nil {
            let size = 1 + random.below(replicas.count - 1)
            sideA = Set(replicas.indices.shuffled(using: &random).prefix(size))
            stats.partitions += 1
            let line = "partition: \(sideA!.sorted().map { replicas[$0].name.description }) apart from the rest"
            note(line)
        } else if roll < 42, oneWay == nil {
            let from = random.below(replicas.count), to = (from + 1 + random.below(replicas.count - 1)) % replicas.count
            oneWay = (from, to)
            stats.partitions += 1
            let line = "one-way cut: \(replicas[from].name) to \(replicas[to].name) lost"
            note(line)
        } else if roll < 50, sideA != nil {
            sideA = nil
            note("partition healed")
        } else if roll < 56, oneWay != nil {
            oneWay = nil
            note("one-way cut healed")
        }
    }

    mutating func restart(_ index: Int) {
        replicas[index].up = true
        replicas[index].restartAt = nil
        replicas[index].startedAt = now
        let line = "\(replicas[index].name) restarts"
        note(line)
    }

    func connected(_ a: Int, _ b: Int) -> Bool {
        if let oneWay, oneWay.from == a, oneWay.to == b { return false }
        guard let sideA else { return true }
        return sideA.contains(a) == sideA.contains(b)
    }

    mutating func send(_ message: Message, from: Int, to: Int) {
        guard connected(from, to), random.below(100) >= settings.dropPercent else { return }
        let copies = random.below(100) < settings.duplicatePercent ? 2 : 1
        for _ in 0..<copies {
            let delay = Self.step * (1 + random.below(settings.maxDelay / Self.step))
            inFlight[now + delay, default: []].append(Envelope(from: from, to: to, message: message))
        }
    }

    mutating func broadcast(_ message: Message, from: Int) {
        for peer in replicas.indices where peer != from { send(message, from: from, to: peer) }
    }

    // MARK: Timers

    mutating func tick(_ index: Int) throws {
        if replicas[index].isLeader {
            // A client write now and then, then a push to every follower (its heartbeat).
            if random.below(3) == 0 { replicas[index].log.append(Entry(term: replicas[index].term, writer: index)) }
            for peer in replicas.indices where peer != index { push(from: index, to: peer) }
            try advanceCommit(index)
            return
        }
        if let probe = replicas[index].probe, now >= probe.deadline {
            try decide(index)
            return
        }
        if let candidacy = replicas[index].candidacy, now >= candidacy.deadline {
            replicas[index].candidacy = nil
            deferElection(index, extra: random.below(settings.electionTimeout))
            return
        }
        guard replicas[index].probe == nil, replicas[index].candidacy == nil else { return }
        let silent = replicas[index].lastContact.map { now - $0 }
        if silent.map({ $0 >= settings.electionTimeout + replicas[index].jitter }) ?? true {
            replicas[index].probe = ([], now + settings.lease)
            broadcast(.statusRequest(from: index), from: index)
        }
    }

    mutating func deferElection(_ index: Int, extra: Int = 0) {
        replicas[index].lastContact = now + extra
        replicas[index].jitter = random.below(settings.electionTimeout / 2)
    }

    /// The probe is over: `ElectionRule` decides.
    mutating func decide(_ index: Int) throws {
        let replica = replicas[index]
        guard let answers = replica.probe?.answers else { return }
        replicas[index].probe = nil
        let rank = index
        let rule = ElectionRule(me: replica.name, rank: rank, quorum: quorum, term: replica.term, lastTerm: replica.lastTerm,
                                lastSeq: replica.lastSeq, sinceStart: .milliseconds(now - replica.startedAt),
                                electionTimeout: .milliseconds(settings.electionTimeout))
        let decision = rule.decide(answers)
        note("\(replica.name) decides \(decision) from \(answers.map { "\($0.replica):\($0.role)/\($0.term)/\($0.leader)/\($0.inSync)" })")
        switch decision {
        case .follow(let leader, let term):
            if StepDownRule.follows(leader: leader, term: term, current: replica.term, currentLeader: replica.leader, me: replica.name) {
                replicas[index].term = term
                replicas[index].leader = leader
                replicas[index].lastContact = now
                replicas[index].leaderHeardAt = now
            }
        case .wait:
            deferElection(index)
        case .takeOver(let term):
            // (The old rule: the next term after any heard of, which both of a pair may take.)
            let shared = max(replica.term, answers.map(\.term).max() ?? 0) + 1
            try becomeLeader(index, term: settings.pairsShareTerms ? shared : term)
        case .stand(let term):
            guard replica.term < term else { return }
            replicas[index].term = term
            replicas[index].vote = (term, replica.name)
            replicas[index].leader = nil
            replicas[index].lastContact = now
            replicas[index].candidacy = (term, [], now + settings.lease)
            broadcast(.voteRequest(VoteRequest(candidate: replica.name.description, term: term, lastSeq: replica.lastSeq,
                                               lastTerm: replica.lastTerm)), from: index)
        }
    }

    mutating func becomeLeader(_ index: Int, term: Int64) throws {
        let replica = replicas[index]
        if quorum.usesMajority {
            guard replica.term == term, replica.votedFor == replica.name, replica.leader == nil else { return }
        }
        // (The pair rules allow two leaders of one term, briefly: nobody votes, and the
        // higher-numbered one steps down, `StepDownRule`. Neither may lose what the other committed.)
        if quorum.usesMajority, let other = leaders[term], other != replica.name {
            throw Violation(seed: seed, time: now, what: "\(other) and \(replica.name) both lead term \(term)")
        }
        // Every entry committed in an earlier term, or by another leader of this one, must be on
        // the new leader, where it was.
        for (seq, entry) in committed where entry.inTerm < term || (entry.inTerm == term && entry.by != replica.name) {
            guard seq <= replica.lastSeq, replica.log[Int(seq) - 1] == entry.entry else {
                throw Violation(seed: seed, time: now, what: "\(replica.name) leads term \(term) without entry \(seq) (\(entry.entry), term/writer), committed in term \(entry.inTerm)")
            }
        }
        leaders[term] = replica.name
        stats.elections += 1
        note("\(replica.name) leads term \(term)")
        replicas[index].term = max(replica.term, term)
        replicas[index].leader = replica.name
        replicas[index].candidacy = nil
        replicas[index].streams = Dictionary(uniqueKeysWithValues: replicas.indices.filter { $0 != index }.map { ($0, Stream()) })
        // The term's first entry is the new leader's own.
        replicas[index].log.append(Entry(term: term, writer: index))
    }

    mutating func push(from index: Int, to peer: Int) {
        let leader = replicas[index]
        var stream = leader.streams[peer] ?? Stream()
        if let inFlight = stream.inFlight {
            guard now - inFlight.sentAt >= settings.pushTimeout else { return }
            // No answer in time: a lease of failures drops the follower from the in-sync set.
            let since = stream.failingSince ?? now
            stream.failingSince = since
            if stream.inSync, now - since >= settings.lease { stream.inSync = false }
        }
        // First contact sends nothing but asks where the follower stands.
        let resumeAt = min(stream.resumeAt ?? leader.lastSeq, leader.lastSeq)
        replicas[index].pushNumber += 1
        let number = replicas[index].pushNumber
        let leaseLeft = settings.pushesGrantWholeLeases ? settings.lease : grantedLease(index)
        let push = Push(leader: leader.name, term: leader.term, number: number, previousSeq: resumeAt,
                        previousTerm: resumeAt > 0 ? leader.log[Int(resumeAt) - 1].term : 0,
                        entries: stream.resumeAt == nil ? [] : Array(leader.log[Int(resumeAt)...]), sentAt: now, inSync: stream.inSync,
                        leaseLeft: leaseLeft)
        stream.inFlight = (number, now, leader.lastSeq)
        replicas[index].streams[peer] = stream
        send(.push(push), from: index, to: peer)
    }

    /// The commit rule: the newest entry of the leader's own term that a quorum holds.
    mutating func advanceCommit(_ index: Int) throws {
        let leader = replicas[index]
        var seq = leader.lastSeq
        while seq > 0, leader.log[Int(seq) - 1].term == leader.term {
            let holders = 1 + leader.streams.values.filter { $0.matched >= seq }.count
            let inSyncHold = leader.streams.values.allSatisfy { !$0.inSync || $0.matched >= seq }
            if CommitRule.mayAcknowledge(inSyncFollowersHoldIt: inSyncHold, holders: holders, quorum: quorum) { break }
            seq -= 1
        }
        guard seq > 0, leader.log[Int(seq) - 1].term == leader.term else { return }
        for s in 1...seq {
            let entry = leader.log[Int(s) - 1]
            if let earlier = committed[s] {
                guard earlier.entry == entry else {
                    throw Violation(seed: seed, time: now, what: "entry \(s) committed as \(earlier.entry) and again as \(entry) (term/writer) by \(leader.name)")
                }
            } else {
                committed[s] = (entry, leader.term, leader.name)
                stats.commits += 1
            }
        }
        if seq > committedEnd.seq {
            committedEnd = (seq, leader.log[Int(seq) - 1])
            let line = "\(leader.name) commits up to \(seq), matched by \(leader.streams.sorted { $0.key < $1.key }.map { "\(replicas[$0.key].name):\($0.value.matched)\($0.value.inSync ? "" : " out of sync")" })"
            note(line)
        }
    }

    // MARK: Messages

    mutating func deliver(_ envelope: Envelope) throws {
        let index = envelope.to
        let replica = replicas[index]
        switch envelope.message {
        case .statusRequest(let from):
            send(.status(status(of: index)), from: index, to: from)
        case .status(let status):
            guard replica.probe != nil, !replica.probe!.answers.contains(where: { $0.replica == status.replica }) else { return }
            replicas[index].probe!.answers.append(status)
            let answers = replicas[index].probe!.answers
            let leaderSeen = answers.contains { $0.role == .leader || ($0.inSync && !$0.leader.isEmpty) }
            if answers.count == replicas.count - 1 || (answers.count + 1 >= quorum.majority && !leaderSeen) {
                try decide(index)
            }
        case .voteRequest(let request):
            let rule = VoteRule(me: replica.name, term: replica.term, votedFor: replica.votedFor, lastTerm: replica.lastTerm,
                                lastSeq: replica.lastSeq, hearsLiveLeader: request.term > replica.term ? leaderIsLive(index) : false)
            var decision = rule.decide(request)
            if settings.grantsEveryVote { decision.grants = true }
            note("\(replica.name) (log \(replica.lastTerm)/\(replica.lastSeq)) answers \(request.candidate) (log \(request.lastTerm)/\(request.lastSeq)) in term \(request.term): \(decision)")
            if decision.adoptsTerm {
                replicas[index].term = request.term
                replicas[index].leader = nil
                replicas[index].candidacy = nil
            }
            if decision.grants, let candidate = ReplicaName(request.candidate) {
                replicas[index].term = max(replicas[index].term, request.term)
                replicas[index].vote = (request.term, candidate)
                replicas[index].lastContact = now
            }
            send(.vote(VoteAnswer(replica: replica.name.description, term: replicas[index].term, granted: decision.grants)),
                 from: index, to: envelope.from)
        case .vote(let answer):
            guard var candidacy = replica.candidacy, answer.term == candidacy.term,
                  !candidacy.answers.contains(where: { $0.replica == answer.replica }) else { return }
            candidacy.answers.append(answer)
            replicas[index].candidacy = candidacy
            let rule = ElectionRule(me: replica.name, rank: index, quorum: quorum, term: replica.term, lastTerm: replica.lastTerm,
                                    lastSeq: replica.lastSeq, sinceStart: .zero, electionTimeout: .milliseconds(settings.electionTimeout))
            if rule.isElected(term: candidacy.term, answers: candidacy.answers) { try becomeLeader(index, term: candidacy.term) }
        case .push(let push):
            receive(push, at: index, from: envelope.from)
        case .ack(let ack, let number):
            guard replica.isLeader else { return }
            if StepDownRule.isDeposed(by: ack, term: replica.term, me: replica.name) {
                replicas[index].term = max(replica.term, ack.term)
                replicas[index].leader = ack.leader.flatMap(ReplicaName.init).flatMap { $0 == replica.name ? nil : $0 }
                replicas[index].lastContact = now
                return
            }
            // Only the answer to the push in flight counts (a late one was given up on).
            let peer = envelope.from
            guard ack.term == replica.term, var stream = replica.streams[peer], let sent = stream.inFlight, sent.number == number else { return }
            stream.inFlight = nil
            stream.failingSince = nil
            stream.resumeAt = ack.needsSnapshot ? 0 : ack.lastSeq
            let accepted = ack.accepted && !ack.needsSnapshot
            stream.matched = accepted || (settings.countsRefusals && !ack.needsSnapshot) ? ack.lastSeq : min(stream.matched, ack.lastSeq)
            if ack.needsSnapshot || !ack.accepted {
                // Behind: it serves no reads, so writes need not wait for it.
                stream.inSync = false
            } else {
                stream.confirmedAt = sent.sentAt
                if !stream.inSync, ack.lastSeq >= sent.lastSeq { stream.inSync = true }
            }
            replicas[index].streams[peer] = stream
        }
    }

    /// A follower applies a push the way `ReplicationLog.applyFromLeader` does: a gap is refused,
    /// a log that disagrees at the push's start asks for a snapshot (the whole log), and entries
    /// it already holds with the same term are kept.
    mutating func receive(_ push: Push, at index: Int, from: Int) {
        var replica = replicas[index]
        defer { replicas[index] = replica }
        func ack(accepted: Bool, needsSnapshot: Bool = false, lastSeq: Int64? = nil) -> Message {
            .ack(ReplicationAck(replica: replica.name.description, term: replica.term, leader: replica.leader?.description,
                                lastSeq: lastSeq ?? replica.lastSeq, accepted: accepted, needsSnapshot: needsSnapshot), number: push.number)
        }
        if push.term == replica.newestPush.term, push.number <= replica.newestPush.number { return }
        if push.term >= replica.newestPush.term { replica.newestPush = (push.term, push.number) }
        guard StepDownRule.follows(leader: push.leader, term: push.term, current: replica.term, currentLeader: replica.leader, me: replica.name) else {
            send(ack(accepted: false), from: index, to: from)
            return
        }
        replica.term = push.term
        replica.leader = push.leader
        replica.lastContact = now
        replica.leaderHeardAt = now
        replica.candidacy = nil
        replica.probe = nil
        if push.previousSeq > replica.lastSeq {
            replica.caughtUp = false
            send(ack(accepted: false), from: index, to: from)
            return
        }
        if push.previousSeq > 0, replica.log[Int(push.previousSeq) - 1].term != push.previousTerm {
            replica.leaseUntil = nil
            replica.caughtUp = false
            send(ack(accepted: false, needsSnapshot: true), from: index, to: from)
            return
        }
        for (offset, entry) in push.entries.enumerated() {
            let position = Int(push.previousSeq) + offset
            if position < replica.log.count {
                if replica.log[position].term == entry.term { continue }
                note("\(replica.name) drops entries \(position + 1)-\(replica.log.count) for \(push.leader)'s of term \(entry.term)")
                replica.log.removeSubrange(position...)
            }
            replica.log.append(entry)
        }
        let until = push.sentAt + min(settings.lease, push.leaseLeft)
        replica.leaseUntil = max(replica.leaseUntil ?? until, until)
        replica.caughtUp = push.inSync
        send(ack(accepted: true, lastSeq: push.previousSeq + Int64(push.entries.count)), from: index, to: from)
    }

    /// Every replica that serves reads now holds every committed entry: no read misses an
    /// acknowledged write (the leases' promise, G6).
    func checkReads() throws {
        guard committedEnd.seq > 0 else { return }
        for index in replicas.indices where replicas[index].up && servesReads(index) {
            let replica = replicas[index]
            guard replica.lastSeq >= committedEnd.seq, replica.log[Int(committedEnd.seq) - 1] == committedEnd.entry else {
                throw Violation(seed: seed, time: now, what: "\(replica.name) serves reads without committed entry \(committedEnd.seq) (its log ends at \(replica.lastTerm)/\(replica.lastSeq)): \(summary)", isStaleRead: true)
            }
        }
    }

    /// Each replica's role, term, vote and log end, for a failure's message.
    var summary: String {
        replicas.map { r in
            "\(r.name) \(r.isLeader ? "leads" : "follows \(r.leader?.description ?? "nobody")") term \(r.term) voted \(r.votedFor?.description ?? "-") log \(r.lastTerm)/\(r.lastSeq)\(r.candidacy != nil ? " standing" : "")\(r.probe != nil ? " probing" : "")"
        }.joined(separator: "; ")
    }

    func status(of index: Int) -> ReplicationStatus {
        let replica = replicas[index]
        return ReplicationStatus(replica: replica.name.description, role: replica.isLeader ? .leader : .follower, term: replica.term,
                                 lastSeq: replica.lastSeq, leader: replica.leader?.description ?? "", inSync: servesReads(index),
                                 lastTerm: replica.lastTerm)
    }

    /// A follower serves reads while its lease from the leader's last push holds; a leader while a
    /// quorum confirmed it within the lease.
    func servesReads(_ index: Int) -> Bool {
        let replica = replicas[index]
        if replica.isLeader { return leaseEnd(index).holds(at: now) }
        guard replica.leader != nil, replica.caughtUp, let until = replica.leaseUntil else { return false }
        return now < until
    }

    /// The leader's own lease, as `Replicator.leaseEnd` computes it.
    func leaseEnd(_ index: Int) -> LeaderLease.End<Int> {
        let followers = replicas[index].streams.values.map { stream in
            (confirmedUntil: stream.confirmedAt.map { $0 + settings.lease }, inSync: stream.inSync)
        }
        return LeaderLease.end(followers: followers, quorum: quorum)
    }

    /// What a push sent now grants its follower (`FollowerStream.grantedLease`).
    func grantedLease(_ index: Int) -> Int {
        switch leaseEnd(index) {
        case .none: 0
        case .unbounded: settings.lease
        case .until(let end): max(0, min(settings.lease, end - now))
        }
    }

    func leaderIsLive(_ index: Int) -> Bool {
        let replica = replicas[index]
        if replica.isLeader { return servesReads(index) }
        guard replica.leader != nil, let heard = replica.leaderHeardAt else { return false }
        return now - heard < settings.electionTimeout
    }
}

/// SplitMix64: small, fast, and the same sequence for a seed on every machine.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
