import BazarCluster
import BazarModels
import BazarService
import Foundation

/// A fault scenario: a schedule of faults injected into a real cluster while the workload runs,
/// then the checks of G1–G6 and G8 against the recorded history and the replicas' final states.
public struct FaultScenario: Sendable {
    public var name: String
    public var faults: [TimedFault]
    public var duration: Duration
    public var clients: Int
    /// Stock every book starts with, low enough that the last copies are fought over.
    public var initialStock = 20

    public init(name: String, duration: Duration, clients: Int = 16, faults: [TimedFault]) {
        self.name = name
        self.duration = duration
        self.clients = clients
        self.faults = faults
    }

    /// The scenarios of the fault model, each `duration` long with faults spread over it.
    public static func standard(duration: Duration) -> [FaultScenario] {
        func at(_ fraction: Double) -> Duration { duration * fraction }
        return [
            FaultScenario(name: "catalog leader killed and restarted twice", duration: duration, faults: [
                TimedFault(at: at(0.15), .crashLeader("catalog")), TimedFault(at: at(0.30), .restart("catalog")),
                TimedFault(at: at(0.55), .crashLeader("catalog")), TimedFault(at: at(0.70), .restart("catalog")),
            ]),
            FaultScenario(name: "order leader killed and restarted", duration: duration, faults: [
                TimedFault(at: at(0.25), .crashLeader("order")), TimedFault(at: at(0.50), .restart("order")),
            ]),
            FaultScenario(name: "catalog follower paused for three leases", duration: duration, faults: [
                TimedFault(at: at(0.25), .pauseFollower("catalog")), TimedFault(at: at(0.25) + .seconds(3), .resumePaused),
            ]),
            FaultScenario(name: "every replica killed and restarted, one at a time", duration: duration, faults: [
                TimedFault(at: at(0.05), .crash("catalog-1")), TimedFault(at: at(0.15), .restart("catalog-1")),
                TimedFault(at: at(0.25), .crash("catalog-2")), TimedFault(at: at(0.35), .restart("catalog-2")),
                TimedFault(at: at(0.45), .crash("order-1")), TimedFault(at: at(0.55), .restart("order-1")),
                TimedFault(at: at(0.65), .crash("order-2")), TimedFault(at: at(0.75), .restart("order-2")),
                TimedFault(at: at(0.85), .restartFrontEnd),
            ]),
            FaultScenario(name: "catalog leader paused for three leases", duration: duration, faults: [
                TimedFault(at: at(0.3), .pauseLeader("catalog")), TimedFault(at: at(0.3) + .seconds(3), .resumePaused),
            ]),
        ]
    }

    /// Runs the scenario on a new cluster of `layout` and returns what the checks found.
    public func run(layout: ClusterLayout, adminToken: String, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ScenarioReport {
        let cluster = LocalCluster(layout: layout)
        let client = BackendClient(connectionsPerHost: clients * 2)
        defer { Task { try? await client.http.shutdown() } }
        do {
            try await cluster.startAll()
            try await cluster.waitUntilReady(timeout: .seconds(60))
            let report = try await drive(cluster: cluster, client: client, adminToken: adminToken, progress: progress)
            await cluster.stopAll()
            return report
        } catch {
            await cluster.stopAll()
            throw error
        }
    }

    func drive(cluster: LocalCluster, client: BackendClient, adminToken: String, progress: @escaping @Sendable (String) -> Void) async throws -> ScenarioReport {
        let layout = cluster.layout
        let front = layout.url(of: "front")
        // Each book's state before the workload: where its linearizable history (G8) starts.
        var initialStates: [Int: BookState] = [:]
        for book in Workload.books {
            let reply = try await client.send(.PATCH, front + "/books/\(book)", body: .init(string: #"{"quantity": \#(initialStock)}"#),
                                              headers: [("Authorization", "Bearer \(adminToken)")], timeout: .seconds(10))
            guard reply.isSuccess, let set = try? reply.decode(Book.self) else {
                throw LocalCluster.Failure(description: "could not set the stock of book \(book): \(reply.status)")
            }
            initialStates[book] = BookState(quantity: set.quantity, version: set.version, priceCents: set.price.cents)
        }
        let catalogNames = layout.members.map(\.name).filter { $0.hasPrefix("catalog-") }
        let history = History()
        let injector = FaultInjector(cluster: cluster, client: client)
        let workload = Workload(
            front: front, catalogReplicas: Dictionary(uniqueKeysWithValues: catalogNames.map { ($0, layout.url(of: $0)) }),
            client: client, history: history, adminToken: adminToken, clients: clients)
        progress("\(name): \(clients) clients for \(duration)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await workload.run(for: duration) }
            group.addTask {
                for timed in faults {
                    let wait = history.began + timed.at - .now
                    if wait > .zero { try await Task.sleep(for: wait) }
                    try await injector.inject(timed.fault)
                    progress("  \(String(format: "%5.1f", (ContinuousClock.now - history.began).seconds)) s  \(timed.fault)")
                }
            }
            try await group.waitForAll()
        }
        try await injector.heal()
        // G4 counts from when the faults are healed (every replica back and ready) and writes stopped.
        try await cluster.waitUntilReady(timeout: .seconds(30))
        let finals = try await FinalStates.converged(layout: layout, client: client, within: .seconds(2), since: .now)
        let faultLog = await injector.log
        let report = GuaranteeCheck(history: history, finals: finals, initialStock: initialStock, initialStates: initialStates,
                                    faultTimes: faultLog.map(\.at))
            .report(scenario: name)
        if !report.violations.isEmpty { history.write(to: layout.dataDirectory.appendingPathComponent("history.txt"), faults: faultLog) }
        return report
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
