import BazarService
import BazarTestSupport
import Foundation
import Testing

/// The client every service (and the test harness) talks to other services with.
@Suite("Back-end client")
struct BackendClientTests {
    @Test("a peer that comes back after many refused connections is reached by the next call, not after a backoff")
    func reachesAPeerAsSoonAsItIsBack() async throws {
        let client = BackendClient(connectionsPerHost: 4)
        let port = FreePort.next()
        let url = "http://127.0.0.1:\(port)/"
        // Refused in a row: with AsyncHTTPClient's default the pool would now wait about 9 s
        // (100 ms × 1.25 per failure) before it tried to connect again.
        for _ in 0..<20 {
            #expect((try? await client.send(.GET, url, timeout: .seconds(2))) == nil)
        }
        let server = try RunningCommand("/usr/bin/python3", ["-u", "-m", "http.server", "\(port)", "--bind", "127.0.0.1"])
        defer { server.signal(SIGTERM) }
        #expect(await server.waitForOutput("Serving HTTP", within: .seconds(20)))
        // Listening now: the first call gets its answer.
        let reply = try? await client.send(.GET, url, timeout: .seconds(2))
        #expect(reply?.status == 200, "the peer listens again, and the call did not reach it")
        try await client.http.shutdown()
    }
}
