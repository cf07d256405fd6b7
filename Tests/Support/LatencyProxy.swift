import BazarCluster
import BazarService
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// An HTTP proxy in front of one replica: it adds a delay to every call, can hold answers back
/// until released, and counts what it forwarded. Tests and benchmarks slow a replica down with
/// it, as a slow disk or a busy host would, without touching the replica itself.
public final class LatencyProxy: Sendable {
    public let port: Int
    public let target: String
    private let client: BackendClient
    private let state = Mutex(State())

    struct State {
        var delay: Duration = .zero
        var holdPath: String?
        var holding = 0
        var forwarded: [String: Int] = [:]
    }

    init(port: Int, target: String, client: BackendClient) {
        self.port = port
        self.target = target
        self.client = client
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Added before every call is forwarded.
    public func setDelay(_ delay: Duration) { state.withLock { $0.delay = delay } }

    /// Answers to `GET path` wait, once received from the replica, until `release()`.
    public func hold(path: String) { state.withLock { $0.holdPath = path } }
    public func release() { state.withLock { $0.holdPath = nil } }
    /// Answers received and waiting for `release()`.
    public var holding: Int { state.withLock { $0.holding } }

    /// Calls forwarded whose path starts with `prefix` (health checks have their own paths).
    public func forwarded(pathPrefix prefix: String) -> Int {
        state.withLock { $0.forwarded.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
    }

    /// Every path forwarded, with its count.
    public var forwardedPaths: [String: Int] { state.withLock { $0.forwarded } }

    public func resetCounts() { state.withLock { $0.forwarded = [:] } }

    /// Runs a proxy on `port` to `target` (a base URL) while `body` runs.
    public static func run<T: Sendable>(
        port: Int, target: String, _ body: @escaping @Sendable (LatencyProxy) async throws -> T
    ) async throws -> T {
        let client = BackendClient(connectionsPerHost: 256)
        let proxy = LatencyProxy(port: port, target: target, client: client)
        var logger = Logger(label: "latency-proxy")
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await proxy.forward(request) },
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "latency-proxy"),
            services: [client], logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            group.addTask {
                try await proxy.waitUntilListening()
                return try await body(proxy)
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw LocalCluster.Failure(description: "latency proxy on port \(port) stopped")
        }
    }

    private func waitUntilListening() async throws {
        for _ in 0..<200 {
            if (try? await BackendClient.shared.send(.GET, url + Self.ownPath, timeout: .seconds(1)))?.status == 204 { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw LocalCluster.Failure(description: "latency proxy on port \(port) did not start")
    }

    private func isHeld(_ request: Request, _ path: String) -> Bool {
        request.method == .get && state.withLock { $0.holdPath == path }
    }

    /// The one path the proxy answers itself, to tell that it listens.
    static let ownPath = "/_latency-proxy"

    private func forward(_ request: Request) async throws -> Response {
        let path = request.uri.path
        if path == Self.ownPath { return Response(status: .noContent) }
        let delay = state.withLock { state in
            state.forwarded[path, default: 0] += 1
            return state.delay
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        let body = try await request.body.collect(upTo: 16 * 1024 * 1024)
        let headers = request.headers.filter { $0.name != .contentLength }.map { ($0.name.rawName, $0.value) }
        let method = HTTPMethod(rawValue: request.method.rawValue)
        let reply: BackendClient.Reply
        do {
            reply = try await client.send(method, target + request.uri.description, body: body.readableBytes > 0 ? body : nil,
                                          headers: headers, timeout: .seconds(30))
        } catch {
            // The replica gave no answer: neither does the proxy (the caller's timeout decides).
            try await Task.sleep(for: .seconds(5))
            throw error
        }
        if isHeld(request, path) {
            state.withLock { $0.holding += 1 }
            while isHeld(request, path) {
                try await Task.sleep(for: .milliseconds(5))
            }
            state.withLock { $0.holding -= 1 }
        }
        var fields = HTTPFields()
        for header in reply.headers where header.name.lowercased() != "content-length" && header.name.lowercased() != "transfer-encoding" {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: reply.body))
    }
}

extension LatencyProxy {
    /// Runs one proxy in front of each catalog replica of `layout` while `body` runs, and hands it
    /// the layout whose front end calls the replicas through them (proxies keyed by replica name).
    public static func inFrontOfCatalogs<T: Sendable>(
        of layout: ClusterLayout, _ body: @escaping @Sendable (ClusterLayout, [String: LatencyProxy]) async throws -> T
    ) async throws -> T {
        let names = layout.members.map(\.name).filter { $0.hasPrefix("catalog-") }
        return try await chain(names[...], layout: layout, proxies: [:], body)
    }

    private static func chain<T: Sendable>(
        _ names: ArraySlice<String>, layout: ClusterLayout, proxies: [String: LatencyProxy],
        _ body: @escaping @Sendable (ClusterLayout, [String: LatencyProxy]) async throws -> T
    ) async throws -> T {
        guard let name = names.first else { return try await body(layout, proxies) }
        let port = FreePort.next()
        var routed = layout
        routed.frontEndRoutes[name] = "http://127.0.0.1:\(port)"
        let next = routed
        return try await run(port: port, target: layout.url(of: name)) { proxy in
            var proxies = proxies
            proxies[name] = proxy
            return try await chain(names.dropFirst(), layout: next, proxies: proxies, body)
        }
    }
}
