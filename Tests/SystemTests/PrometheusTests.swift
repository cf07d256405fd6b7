import BazarCluster
import BazarTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Debian's Prometheus scraping a real Bazar with the configuration `bazar scrape-config` prints.
@Suite("System: Prometheus", .serialized, .enabled(if: Prometheus.installed, "needs Debian's prometheus (.ci/run installs it)"))
struct PrometheusTests {

    @Test("promtool accepts every service's /metrics and the scrape configuration; Prometheus finds every target up and answers a query on the request counter")
    func scrapesEveryService() async throws {
        try await SystemCluster.with { bazar in
            for id in 1...5 { _ = try await bazar.call(.GET, bazar.front + "/info/\(id)") }
            let directory = bazar.layout.dataDirectory.appendingPathComponent("prometheus")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for member in bazar.layout.members {
                let file = directory.appendingPathComponent("\(member.name).prom")
                let text = try await bazar.call(.GET, bazar.url(member.name) + "/metrics").text
                try text.write(to: file, atomically: true, encoding: .utf8)
                try await Command.run(["/bin/sh", "-c", "\(Prometheus.promtool) check metrics < '\(file.path)'"])
            }
            let config = ScrapeConfig(layout: bazar.layout, intervalSeconds: 1)
            let configFile = directory.appendingPathComponent("prometheus.yml")
            try config.yaml.write(to: configFile, atomically: true, encoding: .utf8)
            try await Command.run([Prometheus.promtool, "check", "config", configFile.path])
            // The compose project's configuration (`bazar scrape-config --compose`) is valid too.
            let composeFile = directory.appendingPathComponent("compose.yml")
            try ScrapeConfig.compose(catalogReplicas: 2, orderReplicas: 2).yaml.write(to: composeFile, atomically: true, encoding: .utf8)
            try await Command.run([Prometheus.promtool, "check", "config", composeFile.path])

            let port = FreePort.next()
            let server = try RunningCommand(Prometheus.server, [
                "--config.file=\(configFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ])
            defer { server.signal(SIGKILL) }
            let api = "http://127.0.0.1:\(port)/api/v1"
            // A few scrape intervals, on a slow machine several: Prometheus starts, then scrapes each target.
            try await bazar.waitUntil("Prometheus finds every target up", within: .seconds(60)) {
                guard let reply = try? await bazar.call(.GET, api + "/targets"), reply.status == 200 else { return false }
                let targets = try reply.decode(TargetsAnswer.self).data.activeTargets
                return targets.count == bazar.layout.members.count && targets.allSatisfy { $0.health == "up" }
            }
            let targets = try await bazar.call(.GET, api + "/targets").decode(TargetsAnswer.self).data.activeTargets
            #expect(Set(targets.map(\.labels.job)) == ["front", "catalog", "order"])
            #expect(Set(targets.map(\.labels.member)) == Set(bazar.layout.members.map(\.name)))
            try await bazar.waitUntil("the request counter answers a query", within: .seconds(30)) {
                let query = "sum(hb_requests_total{job=\"front\",http_route=\"/info/{id}\"})"
                let reply = try await bazar.call(.GET, api + "/query?query=" + query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
                guard let sample = try reply.decode(QueryAnswer.self).data.result.first, let value = Double(sample.number) else { return false }
                return value >= 5
            }
        }
    }

    struct TargetsAnswer: Decodable {
        struct Target: Decodable {
            struct Labels: Decodable { var job: String; var member: String }
            var labels: Labels
            var health: String
        }
        struct Targets: Decodable { var activeTargets: [Target] }
        var data: Targets
    }

    struct QueryAnswer: Decodable {
        /// `"value": [time, "number"]`
        struct Sample: Decodable {
            var number: String
            enum CodingKeys: CodingKey { case value }
            init(from decoder: any Decoder) throws {
                var value = try decoder.container(keyedBy: CodingKeys.self).nestedUnkeyedContainer(forKey: .value)
                _ = try value.decode(Double.self)
                number = try value.decode(String.self)
            }
        }
        struct Result: Decodable { var result: [Sample] }
        var data: Result
    }
}

/// Debian's `prometheus` package: the server and `promtool`.
enum Prometheus {
    static let server = "/usr/bin/prometheus", promtool = "/usr/bin/promtool"
    static let installed = FileManager.default.isExecutableFile(atPath: server) && FileManager.default.isExecutableFile(atPath: promtool)
}
