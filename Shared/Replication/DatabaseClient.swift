import BazarService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PostgresKit
import SQLiteKit
import ServiceLifecycle
import Synchronization
import Tracing

/// A replica's own database: an SQLite file (the default) or a PostgreSQL database, chosen by URL.
/// Stores speak SQL through SQLKit, so the same statements run on both.
///
/// Writes are serialized by the replication layer, so SQLite needs one writer connection; reads
/// use a second connection so that they never see a write's transaction half done.
public struct DatabaseClient: Service {
    public enum Kind: String, Sendable { case sqlite, postgres }

    enum Backend: Sendable {
        case sqlite(SQLiteFile)
        case postgres(PostgresClient)
    }

    let backend: Backend
    public let description: String

    public var kind: Kind {
        switch backend {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// Opens `url`: `postgres://user:password@host:port/database` or an SQLite file path
    /// (optionally `sqlite:` or `sqlite://` in front). A missing PostgreSQL database is created.
    /// A database that will not open is a `ConfigurationError` naming it (its password redacted).
    public static func open(url: String, logger: Logger) async throws -> DatabaseClient {
        do {
            if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
                return try await openPostgres(url: url, logger: logger)
            }
            var path = url
            for prefix in ["sqlite://", "sqlite:"] where path.hasPrefix(prefix) {
                path.removeFirst(prefix.count)
            }
            return try await openSQLite(path: path, logger: logger)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("cannot open the database \(redacted(url)): \(reason(error)) (set BAZAR_DATABASE_URL or --database)")
        }
    }

    /// What went wrong, in a line. PostgresNIO hides details from `description` (they may hold
    /// data); the server's message and the underlying connection error hold no secret.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    static func openSQLite(path: String, logger: Logger) async throws -> DatabaseClient {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: quiet)
        let reader: SQLiteConnection
        do {
            // WAL lets the reader work while the writer commits; NORMAL sync survives a process crash.
            _ = try await writer.query("PRAGMA journal_mode=WAL")
            _ = try await writer.query("PRAGMA synchronous=NORMAL")
            reader = try await SQLiteConnection.open(storage: .file(path: path), logger: quiet)
        } catch {
            try? await writer.close()
            throw error
        }
        return DatabaseClient(backend: .sqlite(SQLiteFile(writer: writer, reader: reader)), description: "sqlite:\(path)")
    }

    static func openPostgres(url: String, logger: Logger) async throws -> DatabaseClient {
        var (config, database) = try clientConfiguration(url: url)
        config.options.maximumConnections = 16
        // The pool's own chatter (including a warning when a query races its start) stays out of the log.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        try await probe(config, logger: quiet)
        try await createDatabaseIfMissing(database, using: config, logger: quiet)
        let client = PostgresClient(configuration: config, backgroundLogger: quiet)
        return DatabaseClient(backend: .postgres(client), description: redacted(url))
    }

    /// The client configuration of a `postgres://` URL, and the database it names.
    ///
    /// Bazar connects to PostgreSQL without TLS. The URL is parsed with TLS off: parsing one without
    /// `sslmode` would build a TLS context from the system's CA certificates, which fails where
    /// there are none (a slim container image). A URL that demands TLS is refused, not ignored.
    static func clientConfiguration(url: String) throws -> (PostgresClient.Configuration, String) {
        let tlsParameters: Set<String> = ["sslmode", "tlsmode", "ssl", "tls"]
        guard var components = URLComponents(string: url) else {
            throw ConfigurationError("not a PostgreSQL URL with a host: \(redacted(url))")
        }
        let items = components.queryItems ?? []
        if let demand = items.last(where: { tlsParameters.contains($0.name.lowercased()) })?.value?.lowercased(),
           !["disable", "false", "prefer", "allow", "true"].contains(demand) {
            throw ConfigurationError("\(redacted(url)) asks for TLS (\(demand)); Bazar connects to PostgreSQL without TLS")
        }
        components.queryItems = items.filter { !tlsParameters.contains($0.name.lowercased()) } + [URLQueryItem(name: "sslmode", value: "disable")]
        guard let plain = components.string, let config = try? SQLPostgresConfiguration(url: plain),
              let host = config.coreConfiguration.host else {
            throw ConfigurationError("not a PostgreSQL URL with a host: \(redacted(url))")
        }
        let core = config.coreConfiguration
        let database = core.database ?? core.username
        return (PostgresClient.Configuration(
            host: host, port: core.port ?? 5432, username: core.username, password: core.password,
            database: database, tls: .disable), database)
    }

    /// One direct connection to the server, closed again: a pool retries an unreachable server
    /// for ever, and a replica that cannot reach its database must say so at once.
    static func probe(_ config: PostgresClient.Configuration, logger: Logger) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: config.host ?? "localhost", port: config.port ?? 5432, username: config.username,
                                 password: config.password, database: "postgres", tls: .disable),
            id: 0, logger: logger)
        try await connection.close()
    }

    /// Creates the replica's own database on first start.
    static func createDatabaseIfMissing(_ name: String, using config: PostgresClient.Configuration, logger: Logger) async throws {
        guard name != "postgres" else { return }
        try await onServer(config, logger: logger) { client in
            let rows = try await client.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger)
            var exists = false
            for try await _ in rows { exists = true }
            guard !exists else { return }
            do {
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(quoted(name))"), logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
                // Another replica created it at the same moment.
            }
        }
    }

    /// Runs `body` with a client connected to the server's `postgres` database.
    static func onServer(
        _ config: PostgresClient.Configuration, logger: Logger, _ body: (PostgresClient) async throws -> Void
    ) async throws {
        var admin = config
        admin.database = "postgres"
        let client = PostgresClient(configuration: admin, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Runs the PostgreSQL pool until shutdown; closes SQLite connections at shutdown.
    /// (Run inside a service group: outside one there is no shutdown to wait for.)
    public func run() async throws {
        switch backend {
        case .postgres(let client):
            await client.run()
        case .sqlite:
            try? await gracefulShutdown()
            try await close()
        }
    }

    /// Closes SQLite connections; a PostgreSQL pool closes when `run()` ends.
    public func close() async throws {
        if case .sqlite(let file) = backend { try await file.close() }
    }

    /// Runs `body` against a connection for reading.
    public func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        switch backend {
        case .sqlite(let file):
            return try await body(file.reader.sql())
        case .postgres(let client):
            return try await client.withConnection { try await body($0.sql()) }
        }
    }

    /// Runs `body` in one transaction: all of it commits, or none of it does.
    /// Callers serialize writes (the replication layer does), so SQLite's single writer suffices.
    public func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await Traces.span("transaction", attributes: ["db.system": .string(kind == .sqlite ? "sqlite" : "postgresql")]) { _ in
            switch backend {
            case .sqlite(let file):
                return try await Self.inTransaction(file.writer.sql(), body)
            case .postgres(let client):
                return try await client.withConnection { try await Self.inTransaction($0.sql(), body) }
            }
        }
    }

    private static func inTransaction<R>(_ db: any SQLDatabase, _ body: (any SQLDatabase) async throws -> R) async throws -> R {
        try await db.raw("BEGIN").run()
        do {
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Hides the password of a database URL for logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}

/// The two connections to one SQLite file. They are closed at shutdown, or when the last user
/// lets go of them if the service never ran (a start that failed).
final class SQLiteFile: Sendable {
    let writer: SQLiteConnection
    let reader: SQLiteConnection
    private let closed = Mutex(false)

    init(writer: SQLiteConnection, reader: SQLiteConnection) {
        self.writer = writer
        self.reader = reader
    }

    func close() async throws {
        guard closed.withLock({ let was = $0; $0 = true; return !was }) else { return }
        // The future form: the async one does nothing in a cancelled task (a service group that
        // failed at start cancels its services), and an unclosed connection asserts in deinit.
        let closing: [EventLoopFuture<Void>] = [writer.close(), reader.close()]
        for future in closing { try await future.get() }
    }

    deinit {
        if !closed.withLock({ $0 }) {
            _ = writer.close()
            _ = reader.close()
        }
    }
}

extension DatabaseClient {
    /// Drops a replica's PostgreSQL database (for `bazar up --fresh`).
    public static func drop(url: String) async throws {
        var logger = Logger(label: "bazar")
        logger.logLevel = .notice
        let (config, name) = try clientConfiguration(url: url)
        try await onServer(config, logger: logger) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(quoted(name)) WITH (FORCE)"), logger: logger)
        }
    }
}

extension SQLDatabase {
    /// Inserts many rows, a few hundred per statement: a snapshot may hold many thousands.
    public func insertRows(into table: String, columns: [String], rows: [[any Encodable & Sendable]]) async throws {
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + 200, rows.count)]
            var insert = self.insert(into: table).columns(columns)
            for row in chunk { insert = insert.values(row.map { SQLBind($0) }) }
            try await insert.run()
            start += chunk.count
        }
    }
}
