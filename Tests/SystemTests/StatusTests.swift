import BazarModels
import BazarService
import BazarTestSupport
import Foundation
import Testing

/// What `GET /status` and `bazar status` show of a running system, before and after its catalog
/// leader dies. (The page in a real browser: scripts/check-status-page.)
@Suite("System: the status page and bazar status", .serialized)
struct StatusTests {
    @Test("every replica with its role, lag and readiness, the traffic and the cache, and the new leader after the leader dies")
    func statusFollowsFailover() async throws {
        try await SystemCluster.with { bazar in
            let front = bazar.front
            for id in 1...7 { _ = try await bazar.call(.GET, front + "/info/\(id)") }
            _ = try await bazar.call(.GET, front + "/info/1")
            #expect(try await bazar.call(.POST, front + "/purchase/1").status == 200)

            // The page: one self-contained HTML document that draws itself from the same route.
            let page = try await bazar.call(.GET, front + "/status")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.text.contains("fetch(\"/status\""))
            #expect(!page.text.contains("src=") && !page.text.contains("href=\"http"))

            // Every replica answering and ready, a leader per service, this traffic, the cache.
            let replicas = bazar.layout.members.map(\.name).filter { $0 != "front" }
            // The board is the last health probe of each replica: one taken while the purchase was
            // on its way to a follower shows lag, so wait for the probes that follow it.
            var before = try await Self.statusJSON(front)
            #expect(before.replicas.map(\.name).sorted() == replicas.sorted())
            try await bazar.waitUntil("every replica healthy, ready and level on the status", within: SystemCluster.failoverPatience) {
                before = try await Self.statusJSON(front)
                return before.replicas.allSatisfy { $0.healthy && $0.ready && $0.lag == 0 }
            }
            let leader = try #require(before.leader(of: "catalog"))
            #expect(before.leader(of: "order") != nil)
            #expect(before.leaderChanges.contains { $0.service == "catalog" && $0.leader == leader })
            #expect(before.front.requests >= 9)
            #expect(before.cache.size >= 6 && before.cache.hits >= 1) // the purchase dropped book 1

            // The screen names each replica with its role.
            let screen = try await Self.bazarStatus(["--once", "--url", front])
            #expect(screen.status == 0)
            for name in replicas { #expect(screen.output.contains(name)) }
            #expect(screen.output.split(separator: "\n").contains { $0.hasPrefix(leader) && $0.contains("leader") })

            await bazar.cluster.crash(leader)
            var after = before
            try await bazar.waitUntil("the status shows a new catalog leader and \(leader) unreachable", within: SystemCluster.failoverPatience) {
                after = try await Self.statusJSON(front)
                return after.leader(of: "catalog").map { $0 != leader } == true
                    && after.replicas.first { $0.name == leader }?.role == .unreachable
            }
            let successor = try #require(after.leader(of: "catalog"))
            #expect(successor != leader)
            #expect(after.replicas.first { $0.name == leader }.map { !$0.healthy && !$0.ready } == true)
            #expect(after.leaderChanges.last { $0.service == "catalog" }?.leader == successor)
            let newer = try #require(after.leaderChanges.last { $0.service == "catalog" })
            let older = try #require(before.leaderChanges.last { $0.service == "catalog" })
            #expect(newer.term > older.term)
        }
    }

    @Test("bazar status --once says so and exits 1 when no front end answers")
    func noFrontEnd() async throws {
        let url = "http://127.0.0.1:\(FreePort.next())"
        let screen = try await Self.bazarStatus(["--once", "--url", url])
        #expect(screen.status == 1)
        #expect(screen.output.contains("the front end at \(url) does not answer"))
        #expect(!screen.output.contains("Usage"))
    }

    /// `bazar status --json`, decoded: the command and the route at once.
    static func statusJSON(_ front: String) async throws -> SystemStatus {
        let run = try await bazarStatus(["--json", "--url", front])
        try #require(run.status == 0, "bazar status --json failed: \(run.output)")
        return try JSONResponse.decode(SystemStatus.self, from: run.output)
    }

    static func bazarStatus(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let command = try RunningCommand(SystemCluster.binDirectory + "/bazar", ["status"] + arguments)
        let status = await command.exitStatus(within: .seconds(30))
        return (status ?? -1, command.output)
    }
}
