import BazarCluster
import BazarTestSupport
import BazarModels
import BazarReplication
import BazarService
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A real Bazar of five processes on free loopback ports, for one test, stopped afterwards.
struct SystemCluster: Sendable {
    let cluster: LocalCluster
    let layout: ClusterLayout
    static let adminToken = "test-admin-token"
    static let internalToken = "test-internal-token"
    /// The executables under test: `BAZAR_BIN_DIR`, or the build directory the test bundle is in.
    static let binDirectory = ProcessInfo.processInfo.environment["BAZAR_BIN_DIR"]
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    /// The tests' client: as many connections as concurrent test clients (AsyncHTTPClient's
    /// shared client keeps 8 per host, which would serialize them).
    static let client = BackendClient(connectionsPerHost: 128)

    enum Storage: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// Starts a cluster, runs `body`, and stops the cluster whatever happened.
    /// A layout on free ports in a new temporary directory, with tokens set.
    static func makeLayout(_ storage: Storage, topology: LocalTopology = .standard, frontEnds: Int = 1) throws -> ClusterLayout {
        _ = Leftovers.stopped
        var layout = ClusterLayout.scratch(
            binDirectory: URL(fileURLWithPath: binDirectory), label: "system", topology: topology, frontEnds: frontEnds)
        if storage == .postgres {
            layout.postgresURL = try ScratchPostgres.shared().url + "/"
            // Unique database names per cluster on the shared server.
            layout.databasePrefix = "s\(UUID().uuidString.prefix(6).lowercased())"
        }
        layout.environment = [
            "BAZAR_ADMIN_TOKEN": adminToken, "BAZAR_INTERNAL_TOKEN": internalToken, "BAZAR_LOG_LEVEL": ProcessInfo.processInfo.environment["BAZAR_TEST_LOG_LEVEL"] ?? "info",
        ]
        return layout
    }

    /// Starts a cluster, runs `body`, and stops the cluster whatever happened.
    static func with<T: Sendable>(
        _ storage: Storage = .sqlite, topology: LocalTopology = .standard, environment: [String: String] = [:],
        _ body: @Sendable (SystemCluster) async throws -> T
    ) async throws -> T {
        var layout = try makeLayout(storage, topology: topology)
        layout.environment.merge(environment) { $1 }
        return try await with(layout: layout, body)
    }

    /// A cluster whose front end reaches each catalog replica through its own `LatencyProxy`
    /// (keyed by replica name), to slow replicas down and count what each one receives.
    static func withProxiedCatalogs<T: Sendable>(
        environment: [String: String] = [:], _ body: @escaping @Sendable (SystemCluster, [String: LatencyProxy]) async throws -> T
    ) async throws -> T {
        var layout = try makeLayout(.sqlite)
        layout.environment.merge(environment) { $1 }
        return try await LatencyProxy.inFrontOfCatalogs(of: layout) { layout, proxies in
            try await with(layout: layout) { bazar in try await body(bazar, proxies) }
        }
    }

    static func with<T: Sendable>(layout: ClusterLayout, _ body: @Sendable (SystemCluster) async throws -> T) async throws -> T {
        try await ClusterSlots.shared.run { try await running(layout: layout, body) }
    }

    private static func running<T: Sendable>(layout: ClusterLayout, _ body: @Sendable (SystemCluster) async throws -> T) async throws -> T {
        let data = layout.dataDirectory
        let cluster = LocalCluster(layout: layout)
        let system = SystemCluster(cluster: cluster, layout: layout)
        do {
            try await cluster.startAll()
            try await cluster.waitUntilReady(timeout: .seconds(60))
            if layout.environment["BAZAR_CACHE_CAPACITY"] != "0" { try await system.waitForCacheLease() }
            let result = try await body(system)
            await cluster.stopAll()
            try? FileManager.default.removeItem(at: data)
            return result
        } catch {
            await cluster.stopAll()
            print("cluster logs kept in \(data.path)")
            throw error
        }
    }

    var front: String { layout.url(of: "front") }
    /// The black-box contract checks, through this cluster's front end.
    var contract: ContractChecks { ContractChecks(front: front, adminToken: Self.adminToken) }
    /// Every replica of `service` (`catalog` or `order`), by name.
    func replicas(of service: String) -> [String] { layout.members.map(\.name).filter { $0.hasPrefix(service + "-") } }

    /// The front end caches only once the catalog leader granted its subscription: wait until a
    /// repeated read is a hit, then empty the cache so that each test starts from nothing.
    func waitForCacheLease() async throws {
        for _ in 0..<100 {
            _ = try? await call(.GET, front + "/info/1")
            if (try? await call(.GET, front + "/info/1"))?.header("X-Cache") == "HIT" {
                try await call(.DELETE, front + "/cache", admin: true)
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LocalCluster.Failure(description: "the front end never got a cache lease")
    }

    func url(_ member: String) -> String { layout.url(of: member) }

    /// One HTTP exchange with any member.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ url: String, json: String? = nil, headers: [(String, String)] = [], admin: Bool = false
    ) async throws -> BackendClient.Reply {
        var headers = headers
        if admin { headers.append(("Authorization", "Bearer \(Self.adminToken)")) }
        return try await Self.client.send(method, url, body: json.map { ByteBuffer(string: $0) }, headers: headers, timeout: .seconds(10))
    }

    func book(at member: String, _ id: Int) async throws -> Book {
        try await call(.GET, url(member) + "/books/\(id)").decode(Book.self)
    }

    func books(at member: String) async throws -> [Book] {
        try await call(.GET, url(member) + "/books").decode(BookList.self).items
    }

    func orders(at member: String) async throws -> [Order] {
        try await call(.GET, url(member) + "/orders?limit=100000").decode(OrderList.self).items
    }

    /// Sets a book's stock through the front end.
    func setStock(_ id: Int, _ quantity: Int) async throws {
        let reply = try await call(.PATCH, front + "/books/\(id)", json: #"{"quantity": \#(quantity)}"#, admin: true)
        #expect(reply.status == 200)
    }
}

extension BackendClient.Reply {
    var text: String { String(buffer: body) }
    func header(_ name: String) -> String? { headers.first(name: name) }
    var errorCode: String? { (try? decode(ErrorBody.self))?.error.code }
}

extension SystemCluster {
    /// How long a test waits for a failover: a takeover needs an election timeout and a probe of a
    /// lease; ten times that, for a slow machine.
    static let failoverPatience: Duration = {
        let settings = Replicator.Settings()
        return (settings.electionTimeout + settings.lease) * 10
    }()

    /// Polls `condition` until it holds; throws, naming `what`, after `within`.
    func waitUntil(_ what: String, within: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + within
        while !(try await condition()) {
            guard ContinuousClock.now < deadline else { throw LocalCluster.Failure(description: "not within \(within): \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
