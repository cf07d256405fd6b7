import BazarCluster
import BazarTestSupport
import BazarReplication
import BazarService
import Foundation
import Logging

/// The two storage backends every store test runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A fresh, empty database of this kind: a temporary SQLite file, or a new database on the
    /// run's scratch PostgreSQL server.
    func freshURL() throws -> String {
        switch self {
        case .sqlite:
            FileManager.default.temporaryDirectory.appendingPathComponent("bazar-test-\(UUID().uuidString).sqlite").path
        case .postgres:
            try ScratchPostgres.shared().freshDatabaseURL()
        }
    }

    /// Runs `body` with an open database, running its pool meanwhile.
    func withDatabase<T: Sendable>(_ body: @Sendable (DatabaseClient) async throws -> T) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let database = try await DatabaseClient.open(url: try freshURL(), logger: logger)
        let result = try await withThrowingTaskGroup(of: Void.self) { group in
            if database.kind == .postgres { group.addTask { try await database.run() } }
            defer { group.cancelAll() }
            return try await body(database)
        }
        try await database.close()
        return result
    }
}

import Testing
