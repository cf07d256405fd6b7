import ArgumentParser
import BazarModels
import BazarService
import Foundation

/// `bazar status`: one screen of what a front end sees (its `/status` as JSON), redrawn in place
/// like `top`; `--once` prints it once, `--json` prints the JSON once (for scripts and tests).
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the system as a front end sees it: replicas, leaders, lag, traffic, cache, leader changes.")

    @Option(help: "The front end's base URL. [env: BAZAR_STATUS_URL, default: http://127.0.0.1:<BAZAR_FRONT_PORT or 8080>]")
    var url: String?

    @Flag(help: "Print the screen once and exit (status 1 when the front end does not answer).")
    var once = false

    @Flag(help: "Print the front end's status JSON once and exit.")
    var json = false

    @Option(help: "Seconds between redraws.")
    var interval: Double = 1

    func validate() throws {
        guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds.") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let base = url ?? environment["BAZAR_STATUS_URL"]
            ?? "http://127.0.0.1:\(environment["BAZAR_FRONT_PORT"] ?? "8080")"
        let client = BackendClient(connectionsPerHost: 1)
        defer { Task { try? await client.http.shutdown() } }
        if json || once {
            let reply: BackendClient.Reply
            do {
                reply = try await client.send(.GET, base + "/status", headers: [("Accept", "application/json")], timeout: .seconds(5))
            } catch {
                throw Unanswered(description: "the front end at \(base) does not answer: \(error)")
            }
            guard reply.isSuccess else { throw Unanswered(description: "the front end at \(base) answered \(reply.status) to GET /status") }
            if json {
                print(String(buffer: reply.body))
            } else {
                print(StatusScreen(base: base, status: try reply.decode(SystemStatus.self)).text)
            }
            return
        }
        while !Task.isCancelled {
            let screen: String
            do {
                let reply = try await client.send(.GET, base + "/status", headers: [("Accept", "application/json")], timeout: .seconds(2))
                screen = reply.isSuccess
                    ? StatusScreen(base: base, status: try reply.decode(SystemStatus.self)).text
                    : "Bazar at \(base): GET /status answered \(reply.status)"
            } catch {
                screen = "Bazar at \(base): the front end does not answer (\(error)); retrying every \(interval) s"
            }
            // Home and clear, then the screen: redrawn in place.
            FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + screen + "\n").utf8))
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }
}

/// A front end that gave no status: one line, exit status 1 (no usage text, the command was right).
struct Unanswered: Error, CustomStringConvertible {
    let description: String
}

/// The text of one `bazar status` screen.
struct StatusScreen {
    let base: String
    let status: SystemStatus

    var text: String {
        let front = status.front, cache = status.cache
        let reads = cache.hits + cache.misses
        var lines = [
            "Bazar at \(base) · \(clock(status.takenAt))",
            "",
            "FRONT END  \(fixed(front.requestsPerSecond)) req/s  \(fixed(front.errorsPerSecond)) 5xx/s  "
                + "p50 \(millis(front.p50Ms))  p99 \(millis(front.p99Ms))  (last \(Int(front.windowSeconds)) s)",
            "CACHE      \(cache.size)/\(cache.capacity) entries  hit ratio \(reads == 0 ? "–" : "\(100 * cache.hits / reads) %")  "
                + "hits \(cache.hits)  misses \(cache.misses)  invalidations \(cache.invalidations)",
            "",
            row("REPLICA", "ROLE", "TERM", "SEQ", "LAG", "READY", "HEALTH"),
        ]
        for replica in status.replicas {
            lines.append(row(
                replica.name, replica.role.rawValue, replica.term.map(String.init) ?? "–", replica.lastSeq.map(String.init) ?? "–",
                replica.lag.map(String.init) ?? "–", replica.ready ? "yes" : "no", replica.healthy ? "up" : "down"))
        }
        lines += ["", "LEADER CHANGES (newest first)"]
        if status.leaderChanges.isEmpty { lines.append("  none seen yet") }
        for change in status.leaderChanges.reversed() {
            lines.append("  \(clock(change.at))  \(change.service.padding(8))  \(change.leader.padding(12))  term \(change.term)")
        }
        return lines.joined(separator: "\n")
    }

    func row(_ columns: String...) -> String {
        zip(columns, [12, 12, 6, 8, 6, 7, 6]).map { $0.padding($1) }.joined(separator: " ")
    }

    func fixed(_ value: Double) -> String { String(format: "%.1f", value) }
    func millis(_ value: Double?) -> String { value.map { String(format: "%.1f ms", $0) } ?? "–" }
    func clock(_ date: Date) -> String { String(BazarJSON.rfc3339(date).dropFirst(11).prefix(8)) }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
