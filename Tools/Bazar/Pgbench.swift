import BazarLoad
import Foundation

/// The database's own ceiling: pgbench's simple-update transactions (one update, one select, one
/// insert) on the same PostgreSQL server, with as many clients as the purchases had, in a scratch
/// database created and dropped here.
enum Pgbench {
    static func transactionsPerSecond(executable: String, serverURL: String, clients: Int, seconds: Int) throws -> Double {
        guard let url = URLComponents(string: serverURL), let host = url.host else { throw LoadError("\(serverURL) is not a postgres:// URL") }
        let tools = URL(fileURLWithPath: executable).deletingLastPathComponent()
        var environment = ProcessInfo.processInfo.environment
        if let password = url.password { environment["PGPASSWORD"] = password }
        let connection = ["-h", host, "-p", String(url.port ?? 5432)] + (url.user.map { ["-U", $0] } ?? [])
        let database = "bazar_pgbench_\(UUID().uuidString.prefix(8).lowercased())"
        func run(_ tool: URL, _ arguments: [String]) throws -> String {
            let process = Process(), output = Pipe()
            process.executableURL = tool
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw LoadError("\(tool.lastPathComponent) failed: \(text)") }
            return text
        }
        _ = try run(tools.appendingPathComponent("createdb"), connection + [database])
        defer { _ = try? run(tools.appendingPathComponent("dropdb"), connection + [database]) }
        say("pgbench: initializing \(database) …")
        _ = try run(URL(fileURLWithPath: executable), connection + ["-i", "-q", "-s", "1", database])
        // A count of transactions per client, not `-T`: pgbench ends a timed run on SIGALRM, and a
        // child of this process inherits a signal mask that blocks it (the run would never end).
        // A short run first tells how many make about `seconds`.
        func tps(transactions: Int) throws -> Double {
            let text = try run(URL(fileURLWithPath: executable), connection + [
                "-c", String(clients), "-j", "2", "-t", String(transactions), "-b", "simple-update", "-n", database,
            ])
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
                  let tps = Double(line.dropFirst(6).prefix { $0.isNumber || $0 == "." }) else {
                throw LoadError("pgbench printed no tps line: \(text)")
            }
            return tps
        }
        let estimate = try tps(transactions: 50)
        let transactions = max(50, Int(estimate * Double(seconds) / Double(clients)))
        say("pgbench: simple-update, \(clients) clients, \(transactions) transactions each (about \(seconds) s) …")
        return try tps(transactions: transactions)
    }
}
