import BazarModels
import SQLKit

/// The replication log and the request-id table, kept in every replica's own database.
///
/// A leader commits each write and its log entry in one transaction; a follower applies a
/// leader's entries and appends them in one transaction. Either way the log and the state agree
/// after any crash. Request results outlive log compaction, which keeps at-most-once forever.
public struct ReplicationLog: Sendable {
    public let database: DatabaseClient

    public init(database: DatabaseClient) { self.database = database }

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
    }

    /// The sequence number of the newest entry, 0 for an empty log.
    public func lastSeq() async throws -> Int64 {
        try await database.read { db in
            try await db.raw("SELECT COALESCE(MAX(seq), 0) AS last FROM replication_log").first()?
                .decode(column: "last", as: Int64.self) ?? 0
        }
    }

    /// The term of the newest entry, 0 for an empty log.
    public func lastTerm() async throws -> Int64 {
        try await database.read { db in
            try await db.raw("SELECT term FROM replication_log ORDER BY seq DESC LIMIT 1").first()?
                .decode(column: "term", as: Int64.self) ?? 0
        }
    }

    /// Up to `limit` entries after `seq`, in order.
    public func entries(after seq: Int64, limit: Int) async throws -> [ReplicationEntry] {
        try await database.read { db in
            try await db.raw("""
                SELECT seq, term, request_id, effect FROM replication_log
                WHERE seq > \(bind: seq) ORDER BY seq LIMIT \(bind: limit)
                """).all().map(Self.entry(from:))
        }
    }

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
        try await db.raw("""
            INSERT INTO replication_log (seq, term, request_id, effect)
            VALUES (\(bind: entry.seq), \(bind: entry.term), \(bind: entry.requestID), \(bind: entry.effect))
            """).run()
    }

    /// Applies a leader's entries that follow this log's end, each with `applyEffect`, in one
    /// transaction. Entries already present are skipped, so a repeated push is harmless.
    /// Returns the new end of the log.
    public func applyFromLeader(
        _ entries: [ReplicationEntry],
        applyEffect: @escaping @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void
    ) async throws -> Int64 {
        try await database.transaction { db in
            var last = try await db.raw("SELECT COALESCE(MAX(seq), 0) AS last FROM replication_log").first()?
                .decode(column: "last", as: Int64.self) ?? 0
            for entry in entries.sorted(by: { $0.seq < $1.seq }) where entry.seq == last + 1 {
                try await applyEffect(entry, db)
                try await Self.append(entry, in: db)
                last = entry.seq
            }
            return last
        }
    }

    static func entry(from row: any SQLRow) throws -> ReplicationEntry {
        ReplicationEntry(
            seq: try row.decode(column: "seq", as: Int64.self),
            term: try row.decode(column: "term", as: Int64.self),
            requestID: try row.decodeNil(column: "request_id") ? nil : row.decode(column: "request_id", as: String.self),
            effect: try row.decode(column: "effect", as: String.self))
    }
}
