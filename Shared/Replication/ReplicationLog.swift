import BazarModels
import BazarService
import SQLKit

/// The replication log, the request-id table and the replica's durable metadata (its term and
/// where its compacted log begins), kept in every replica's own database.
///
/// A leader commits each write and its log entry in one transaction; a follower applies a
/// leader's entries and appends them in one transaction. Either way the log and the state agree
/// after any crash. Request results outlive log compaction, which keeps at-most-once forever.
public struct ReplicationLog: Sendable {
    public let database: DatabaseClient

    public init(database: DatabaseClient) { self.database = database }

    /// A position in the log: a sequence number and the term its entry was written in.
    public struct Position: Sendable, Hashable, Comparable {
        public var seq: Int64
        public var term: Int64
        public init(seq: Int64, term: Int64) {
            self.seq = seq
            self.term = term
        }
        public static let start = Position(seq: 0, term: 0)
        /// Newer term first, then longer log: how up to date a log is.
        public static func < (a: Position, b: Position) -> Bool { (a.term, a.seq) < (b.term, b.seq) }
    }

    /// How a leader's batch went on a follower.
    public enum Applied: Sendable, Equatable {
        /// The follower's log now ends at this sequence number.
        case appended(Int64)
        /// The batch does not follow the follower's log, which ends here.
        case gap(Int64)
        /// The follower's log holds entries the leader never had: it needs a snapshot.
        case diverged
    }

    public static func createSchema(_ db: any SQLDatabase) async throws {
        try await db.raw("""
            CREATE TABLE IF NOT EXISTS replication_log (
                seq BIGINT PRIMARY KEY,
                term BIGINT NOT NULL,
                request_id TEXT,
                effect TEXT NOT NULL)
            """).run()
        try await db.raw("""
            CREATE TABLE IF NOT EXISTS request_results (
                request_id TEXT PRIMARY KEY,
                result TEXT NOT NULL)
            """).run()
        try await db.raw("""
            CREATE TABLE IF NOT EXISTS replica_meta (
                name TEXT PRIMARY KEY,
                value BIGINT NOT NULL)
            """).run()
    }

    // MARK: Reading

    /// Where the log ends: its newest entry, or the compacted base when it holds none.
    public func lastPosition() async throws -> Position {
        try await database.read { try await Self.lastPosition(in: $0) }
    }

    public func lastSeq() async throws -> Int64 { try await lastPosition().seq }

    /// The term this replica last knew of.
    public func storedTerm() async throws -> Int64 {
        try await database.read { try await Self.meta("term", in: $0) } ?? 0
    }

    /// Up to `limit` entries after `seq`, in order; nil when compaction removed some of them.
    public func entries(after seq: Int64, limit: Int) async throws -> [ReplicationEntry]? {
        try await database.read { db in
            let base = try await Self.base(in: db)
            guard seq >= base.seq else { return nil }
            return try await db.raw("""
                SELECT seq, term, request_id, effect FROM replication_log
                WHERE seq > \(bind: seq) ORDER BY seq LIMIT \(bind: limit)
                """).all().map(Self.entry(from:))
        }
    }

    /// The term of the entry at `seq`, nil when compaction removed it.
    public func term(at seq: Int64) async throws -> Int64? {
        try await database.read { try await Self.term(at: seq, in: $0) }
    }

    // MARK: Writing

    public func storeTerm(_ term: Int64) async throws {
        try await database.transaction { try await Self.setMeta("term", term, in: $0) }
    }

    /// Stores `term` and this replica's vote in it (the candidate's number), in one transaction:
    /// a vote is on disk before it is given, so a replica that restarts cannot vote twice in a term.
    public func storeVote(term: Int64, candidate: Int) async throws {
        try await database.transaction { db in
            try await Self.setMeta("term", term, in: db)
            try await Self.setMeta("vote_term", term, in: db)
            try await Self.setMeta("voted_for", Int64(candidate), in: db)
        }
    }

    /// The vote stored last: its term and the candidate's number (nil when none was given).
    public func storedVote() async throws -> (term: Int64, candidate: Int)? {
        try await database.read { db in
            guard let term = try await Self.meta("vote_term", in: db), let candidate = try await Self.meta("voted_for", in: db) else { return nil }
            return (term, Int(candidate))
        }
    }

    /// Applies a leader's entries with `applyEffect`, in one transaction, after checking that
    /// they continue this log: the entry at `previousSeq` must carry `previousTerm`, entries
    /// already present must match, and the log must not reach past what the leader sent.
    ///
    /// `end` is where this log ends, as the caller knows it while it holds the write turn (every
    /// change to the log's end happens under that turn). A batch that continues it, as nearly
    /// every one does, needs no reads: a heartbeat touches no database at all, and entries are
    /// applied and appended without checking them against the log first.
    ///
    /// Otherwise the terms of the entries already here are read in one statement, not one per
    /// entry: a follower that fell behind gets the same entries again after every push that timed
    /// out, and must get through them faster than they come, however slow its machine is.
    public func applyFromLeader(
        _ batch: ReplicationBatch, end: Position,
        applyEffect: @escaping @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void
    ) async throws -> Applied {
        let entries = batch.entries.sorted { $0.seq < $1.seq }.filter { $0.seq > batch.previousSeq }
        if batch.previousSeq == end.seq, batch.previousTerm == end.term {
            let appended = Self.continuing(end.seq, entries)
            if !appended.isEmpty { try await database.transaction { db in try await Self.apply(appended, applyEffect, in: db) } }
            return .appended(appended.last?.seq ?? end.seq)
        }
        return try await database.transaction { db in
            let base = try await Self.base(in: db)
            let last = try await Self.lastPosition(in: db, base: base).seq
            guard batch.previousSeq <= last else { return .gap(last) }
            let sentEnd = entries.last?.seq ?? batch.previousSeq
            let present = try await Self.terms(from: batch.previousSeq, through: min(last, sentEnd), base: base, in: db)
            guard present[batch.previousSeq] == batch.previousTerm else { return .diverged }
            for entry in entries where entry.seq <= last {
                guard present[entry.seq] == entry.term else { return .diverged }
            }
            // Entries here beyond all the leader sent were never the leader's.
            guard sentEnd >= last else { return .diverged }
            let appended = Self.continuing(last, entries)
            try await Self.apply(appended, applyEffect, in: db)
            return .appended(appended.last?.seq ?? last)
        }
    }

    /// The entries of `entries` (in order) that follow on from `end` without a gap.
    static func continuing(_ end: Int64, _ entries: [ReplicationEntry]) -> [ReplicationEntry] {
        var next = end + 1
        var run: [ReplicationEntry] = []
        for entry in entries where entry.seq == next {
            run.append(entry)
            next += 1
        }
        return run
    }

    /// Applies each entry's effect (a term's first entry has none) and appends them all to the
    /// log in one statement.
    static func apply(
        _ entries: [ReplicationEntry], _ applyEffect: @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void,
        in db: any SQLDatabase
    ) async throws {
        for entry in entries where !entry.isTermStart { try await applyEffect(entry, db) }
        try await append(entries, in: db)
    }

    /// Replaces the request results and the log by a leader's snapshot (the caller replaces the
    /// state in the same transaction).
    public static func install(_ snapshot: ReplicationSnapshot, in db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM request_results").run()
        try await db.insertRows(into: "request_results", columns: ["request_id", "result"], rows: snapshot.results.map { [$0.key, $0.value] })
        try await db.raw("DELETE FROM replication_log").run()
        try await setMeta("base_seq", snapshot.lastSeq, in: db)
        try await setMeta("base_term", snapshot.lastTerm, in: db)
        try await setMeta("term", snapshot.term, in: db)
    }

    public static func allResults(in db: any SQLDatabase) async throws -> [String: String] {
        var results: [String: String] = [:]
        for row in try await db.raw("SELECT request_id, result FROM request_results").all() {
            results[try row.decode(column: "request_id", as: String.self)] = try row.decode(column: "result", as: String.self)
        }
        return results
    }

    /// Drops all but the newest `keep` entries; the newest dropped one becomes the log's base.
    public func compact(keeping keep: Int64) async throws {
        try await database.transaction { db in
            let last = try await Self.lastPosition(in: db).seq
            let base = try await Self.base(in: db)
            let cut = last - keep
            guard cut > base.seq, let term = try await Self.term(at: cut, in: db) else { return }
            try await db.raw("DELETE FROM replication_log WHERE seq <= \(bind: cut)").run()
            try await Self.setMeta("base_seq", cut, in: db)
            try await Self.setMeta("base_term", term, in: db)
        }
    }

    // MARK: Statements

    /// The stored answer for a request id, if that request was already applied.
    public static func result(for requestID: String, in db: any SQLDatabase) async throws -> String? {
        try await db.raw("SELECT result FROM request_results WHERE request_id = \(bind: requestID)")
            .first()?.decode(column: "result", as: String.self)
    }

    public static func recordResult(_ result: String, for requestID: String, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO request_results (request_id, result) VALUES (\(bind: requestID), \(bind: result))
            ON CONFLICT (request_id) DO NOTHING
            """).run()
    }

    public static func append(_ entry: ReplicationEntry, in db: any SQLDatabase) async throws {
        try await append([entry], in: db)
    }

    /// Appends `entries` in one statement (in chunks of 200 rows).
    static func append(_ entries: [ReplicationEntry], in db: any SQLDatabase) async throws {
        try await db.insertRows(into: "replication_log", columns: ["seq", "term", "request_id", "effect"],
                                rows: entries.map { [$0.seq, $0.term, $0.requestID, $0.effect] })
    }

    public static func lastPosition(in db: any SQLDatabase) async throws -> Position {
        try await lastPosition(in: db, base: base(in: db))
    }

    static func lastPosition(in db: any SQLDatabase, base: Position) async throws -> Position {
        if let row = try await db.raw("SELECT seq, term FROM replication_log ORDER BY seq DESC LIMIT 1").first() {
            return Position(seq: try row.decode(column: "seq", as: Int64.self), term: try row.decode(column: "term", as: Int64.self))
        }
        return base
    }

    /// The terms of the entries from `first` through `last` that this log holds (the base's
    /// included), by sequence number, in one statement.
    static func terms(from first: Int64, through last: Int64, base: Position, in db: any SQLDatabase) async throws -> [Int64: Int64] {
        var terms: [Int64: Int64] = [:]
        if (first...max(first, last)).contains(base.seq) { terms[base.seq] = base.term }
        guard last >= first else { return terms }
        for row in try await db.raw("""
            SELECT seq, term FROM replication_log WHERE seq >= \(bind: max(first, base.seq + 1)) AND seq <= \(bind: last)
            """).all() {
            terms[try row.decode(column: "seq", as: Int64.self)] = try row.decode(column: "term", as: Int64.self)
        }
        return terms
    }

    static func base(in db: any SQLDatabase) async throws -> Position {
        Position(seq: try await meta("base_seq", in: db) ?? 0, term: try await meta("base_term", in: db) ?? 0)
    }

    static func term(at seq: Int64, in db: any SQLDatabase) async throws -> Int64? {
        let base = try await base(in: db)
        if seq == base.seq { return base.term }
        guard seq > base.seq else { return nil }
        return try await db.raw("SELECT term FROM replication_log WHERE seq = \(bind: seq)").first()?
            .decode(column: "term", as: Int64.self)
    }

    static func meta(_ name: String, in db: any SQLDatabase) async throws -> Int64? {
        try await db.raw("SELECT value FROM replica_meta WHERE name = \(bind: name)").first()?.decode(column: "value", as: Int64.self)
    }

    static func setMeta(_ name: String, _ value: Int64, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO replica_meta (name, value) VALUES (\(bind: name), \(bind: value))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """).run()
    }

    static func entry(from row: any SQLRow) throws -> ReplicationEntry {
        ReplicationEntry(
            seq: try row.decode(column: "seq", as: Int64.self),
            term: try row.decode(column: "term", as: Int64.self),
            requestID: try row.decodeNil(column: "request_id") ? nil : row.decode(column: "request_id", as: String.self),
            effect: try row.decode(column: "effect", as: String.self))
    }
}

extension ReplicationEntry {
    /// The entry a new leader writes first: it changes no state, but puts the new term in the
    /// log, so that a replica that holds it is known to be up to date with that leader.
    public static func termStart(seq: Int64, term: Int64) -> ReplicationEntry {
        ReplicationEntry(seq: seq, term: term, requestID: nil, effect: "")
    }

    public var isTermStart: Bool { effect.isEmpty }
}
