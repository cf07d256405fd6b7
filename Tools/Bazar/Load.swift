import ArgumentParser
import BazarLoad
import Foundation

/// `bazar load`: drives a running Bazar with concurrent clients and reports throughput and
/// latency percentiles.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a mix of requests to a front end from concurrent clients; report throughput and latency.")

    @Option(help: "The front end's base URL. [env: BAZAR_LOAD_URL]")
    var url = ProcessInfo.processInfo.environment["BAZAR_LOAD_URL"] ?? "http://127.0.0.1:8080"

    @Option(help: "Concurrent clients, each with one request in flight.")
    var concurrency = 16

    @Option(help: "Seconds to measure.")
    var duration = 10

    @Option(help: "Seconds of load before measuring (not counted).")
    var warmup = 2

    @Option(help: "Weighted mix of info, search, purchase and restock requests.")
    var mix = "info=90,search=9,purchase=1"

    @Option(help: "Book ids to use, as first-last.")
    var books = "1-7"

    @Option(help: "Admin token for restocks. [env: BAZAR_ADMIN_TOKEN]")
    var adminToken = ProcessInfo.processInfo.environment["BAZAR_ADMIN_TOKEN"]

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let parts = books.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 1, parts[0] <= parts[1] else { throw ValidationError("--books wants first-last, e.g. 1-7") }
        guard concurrency >= 1, duration >= 1, warmup >= 0 else { throw ValidationError("--concurrency and --duration must be at least 1") }
        let plan = LoadPlan(
            url: url.hasSuffix("/") ? String(url.dropLast()) : url, concurrency: concurrency, duration: .seconds(duration),
            warmup: .seconds(warmup), mix: try LoadPlan.parseMix(mix), books: parts[0]...parts[1],
            topics: ["distributed systems", "undergraduate school"], adminToken: adminToken)
        say("load: \(concurrency) clients, \(duration) s, mix \(mix), against \(plan.url)")
        let report = try await LoadGenerator.run(plan) { say($0) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            say(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            say(report.summary)
        }
    }
}
