import BazarCluster
import BazarLoad
import BazarReplication
import BazarService
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A local Bazar that `bazar bench --ceilings` and `--sweep` start for a measurement and stop
/// after it: the standard two and two replicas on the bench's ports, its data in a temporary
/// directory (or its own databases on a PostgreSQL server), logs at warning level.
struct LocalBazar: Sendable {
    let cluster: LocalCluster
    let description: String

    var url: String { cluster.layout.url(of: "front") }

    func url(of member: String) -> String { cluster.layout.url(of: member) }

    var members: [String] { cluster.layout.members.map(\.name) }

    /// A member's resident memory now and at its peak, in MB (from /proc).
    func memory(of member: String) async -> (resident: Double, peak: Double)? {
        guard let pid = await cluster.pid(of: member),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func kilobytes(_ field: String) -> Double? {
            status.split(separator: "\n").first { $0.hasPrefix(field + ":") }?
                .split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
        }
        guard let resident = kilobytes("VmRSS"), let peak = kilobytes("VmHWM") else { return nil }
        return (resident / 1024, peak / 1024)
    }

    /// CPU seconds (user and system) each member has used so far.
    func cpuSeconds() async -> [String: Double] {
        var seconds: [String: Double] = [:]
        for member in members {
            guard let pid = await cluster.pid(of: member),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { continue }
            // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            seconds[member] = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return seconds
    }

    static func with<T: Sendable>(
        _ bench: Bench, cache: Bool, postgres: String?, _ body: @Sendable (LocalBazar) async throws -> T
    ) async throws -> T {
        let topology = try LocalTopology(frontPort: bench.frontPort).validated()
        let label = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        var layout = ClusterLayout(
            topology: topology, dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("bazar-\(label)"),
            binDirectory: try ServiceBinaries.locate())
        layout.postgresURL = postgres
        layout.databasePrefix = label.replacingOccurrences(of: "-", with: "_")
        layout.environment["BAZAR_LOG_LEVEL"] = "warning"
        layout.environment["BAZAR_ADMIN_TOKEN"] = bench.restockToken
        if !cache { layout.environment["BAZAR_CACHE_CAPACITY"] = "0" }
        if let answer = try? await BackendClient.shared.send(.GET, topology.frontEndURL + "/health", timeout: .seconds(1)) {
            throw LoadError("something already answers on \(topology.frontEndURL) (status \(answer.status)): stop it, or give --front-port")
        }
        let description = "cache \(cache ? "on" : "off"), \(postgres == nil ? "SQLite" : "PostgreSQL")"
        say("starting a local Bazar (\(description)) on \(topology.frontEndURL) and the \(topology.catalogReplicas + topology.orderReplicas) ports after it …")
        let cluster = LocalCluster(layout: layout)
        do {
            try await cluster.startAll()
            try await cluster.waitUntilReady(timeout: .seconds(120))
            let result = try await body(LocalBazar(cluster: cluster, description: description))
            await cluster.stopAll()
            try await remove(layout)
            return result
        } catch {
            await cluster.stopAll()
            say("logs kept in \(layout.dataDirectory.path)")
            throw error
        }
    }

    private static func remove(_ layout: ClusterLayout) async throws {
        if layout.postgresURL != nil {
            for member in layout.members where member.name != "front" {
                try await DatabaseClient.drop(url: layout.databaseURL(of: member.name))
            }
        }
        try? FileManager.default.removeItem(at: layout.dataDirectory)
    }
}
