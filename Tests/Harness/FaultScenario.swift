import BazarCluster
import BazarModels
import BazarReplication
import BazarService
import BazarTestSupport
import Foundation

/// A fault scenario: a schedule of faults injected into a real cluster while the workload runs,
/// then the checks of G1–G8 against the recorded history, the replicas' final states and their logs.
public struct FaultScenario: Sendable {
    public var name: String
    public var faults: [TimedFault]
    public var duration: Duration
    public var clients: Int
    /// Stock every book starts with, low enough that the last copies are fought over.
    public var initialStock = 20
    /// A service whose leader the faults cut off, so that another replica must take over.
    public var takeover: String?
    /// Whether `swift test` runs it without `BAZAR_FAULT_SCENARIOS=all`. The others inject a fault
    /// that a default scenario also injects, into rules the deterministic simulation checks over
    /// thousands of schedules; they stay for a full run.
    public var runsByDefault: Bool

    public init(name: String, duration: Duration, clients: Int = 16, faults: [TimedFault], takeover: String? = nil,
                runsByDefault: Bool = true) {
        self.name = name
        self.duration = duration
        self.clients = clients
        self.faults = faults
        self.takeover = takeover
        self.runsByDefault = runsByDefault
    }

    /// Whether the scenario cuts the network, so that its cluster must run in a `NetworkLab`.
    public var needsNetwork: Bool { faults.contains { $0.fault.needsNetwork } }

    /// Front ends the clients spread their requests over (at random, per request).
    public static let frontEnds = 3

    /// The replicas' timing (lease, election timeout) that the scenarios' fault lengths count in.
    static let settings = Replicator.Settings()

    /// The scenarios of the fault model, each `duration` long with faults spread over it, for
    /// `topology`'s replicas (two of each by default).
    public static func standard(duration: Duration, topology: LocalTopology = .standard) -> [FaultScenario] {
        func at(_ fraction: Double) -> Duration { duration * fraction }
        let threeLeases = settings.lease * 3
        // Each replica in turn, catalog then order, killed and started again.
        let replicas = (1...topology.catalogReplicas).map { "catalog-\($0)" } + (1...topology.orderReplicas).map { "order-\($0)" }
        let slot = 0.8 / Double(replicas.count)
        let oneAtATime = replicas.enumerated().flatMap { index, name in
            [TimedFault(at: at(0.05 + slot * Double(index)), .crash(name)), TimedFault(at: at(0.05 + slot * (Double(index) + 0.5)), .restart(name))]
        }
        // Killing each replica in turn kills each leader and the replica that took over from it,
        // so the two leader crashes and the paused follower (the simulation's pair schedules crash
        // and pause either replica) run in full runs only.
        return [
            FaultScenario(name: "catalog leader killed and restarted twice", duration: duration, faults: [
                TimedFault(at: at(0.15), .crashLeader("catalog")), TimedFault(at: at(0.30), .restart("catalog")),
                TimedFault(at: at(0.55), .crashLeader("catalog")), TimedFault(at: at(0.70), .restart("catalog")),
            ], takeover: "catalog", runsByDefault: false),
            FaultScenario(name: "order leader killed and restarted", duration: duration, faults: [
                TimedFault(at: at(0.25), .crashLeader("order")), TimedFault(at: at(0.50), .restart("order")),
            ], takeover: "order", runsByDefault: false),
            FaultScenario(name: "catalog follower paused for three leases", duration: duration, faults: [
                TimedFault(at: at(0.25), .pauseFollower("catalog")), TimedFault(at: at(0.25) + threeLeases, .resumePaused),
            ], runsByDefault: false),
            FaultScenario(name: everyReplicaInTurn, duration: duration,
                          faults: oneAtATime + [TimedFault(at: at(0.9), .restartFrontEnd)]),
            FaultScenario(name: "catalog leader paused for three leases", duration: duration, faults: [
                TimedFault(at: at(0.3), .pauseLeader("catalog")), TimedFault(at: at(0.3) + threeLeases, .resumePaused),
            ], takeover: "catalog"),
            // A front end dies and one starts with an empty cache: the leader stops waiting for
            // the dead one's acknowledgements once its subscription lapses, the new one subscribes.
            FaultScenario(name: "a front end killed, another started, then the catalog leader killed", duration: duration, faults: [
                TimedFault(at: at(0.2), .crash("front-2")), TimedFault(at: at(0.3), .restart("front-2")),
                TimedFault(at: at(0.65), .crashLeader("catalog")), TimedFault(at: at(0.8), .restart("catalog")),
            ], takeover: "catalog"),
        ]
    }

    /// The network faults of the fault model with three or more replicas (`topology`), each cut
    /// lasting five seconds of a `duration`-long run, then healed.
    public static func partitions(duration: Duration, topology: LocalTopology) -> [FaultScenario] {
        let cut = duration * 0.3, heal = duration * 0.3 + .seconds(5)
        func cutAndHeal(_ name: String, _ fault: Fault, takeover: String?) -> FaultScenario {
            FaultScenario(name: name, duration: duration, faults: [TimedFault(at: cut, fault), TimedFault(at: heal, .healNetwork)],
                          takeover: takeover)
        }
        // By default: each kind of cut once, the paused leader (the simulation of three or more
        // replicas delays messages but never pauses one) and each replica killed in turn. The
        // order leader's cut is the catalog's on the other service (and a system test of its own),
        // the other crash scenarios are the pair suite's and the simulation's.
        var cutOffOrderLeader = cutAndHeal("order leader cut off from its peers for 5 s", .isolateLeader("order"), takeover: "order")
        cutOffOrderLeader.runsByDefault = false
        let crashes = standard(duration: duration, topology: topology).filter { $0.name.contains("killed") }.map { scenario in
            var scenario = scenario
            scenario.runsByDefault = scenario.name == everyReplicaInTurn
            return scenario
        }
        return [
            cutAndHeal("catalog leader cut off from its peers for 5 s", .isolateLeader("catalog"), takeover: "catalog"),
            cutOffOrderLeader,
            cutAndHeal("catalog split 2 | 1 with the front end on the minority side for 5 s", .splitFrontWithMinority("catalog"), takeover: nil),
            cutAndHeal("one-way cut: the catalog leader's messages arrive, its peers' do not, for 5 s", .cutPeersToLeader("catalog"),
                       takeover: "catalog"),
            FaultScenario(name: "catalog leader paused for three leases", duration: duration, faults: [
                TimedFault(at: cut, .pauseLeader("catalog")), TimedFault(at: cut + settings.lease * 3, .resumePaused),
            ], takeover: "catalog"),
        ] + crashes
    }

    static let everyReplicaInTurn = "every replica killed and restarted, one at a time"

    /// Runs the scenario on a new cluster of `layout` and returns what the checks found. A
    /// scenario that cuts the network runs every member in a namespace of its own (and, on
    /// PostgreSQL, a server of its own that the namespaces reach).
    public func run(layout: ClusterLayout, adminToken: String, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ScenarioReport {
        var layout = layout
        var lab: NetworkLab?
        var postgres: ScratchPostgres?
        defer { postgres?.stop() }
        if needsNetwork {
            let created = try await NetworkLab.create(members: layout.members.map(\.name))
            lab = created
            created.apply(to: &layout)
            if layout.postgresURL != nil {
                postgres = try ScratchPostgres.start(alsoOn: (created.hostAddress, created.subnet))
                layout.postgresURL = postgres!.url + "/"
            }
        }
        let cluster = LocalCluster(layout: layout)
        let client = BackendClient(connectionsPerHost: clients * 2)
        defer { Task { try? await client.http.shutdown() } }
        do {
            try await cluster.startAll()
            try await cluster.waitUntilReady(timeout: .seconds(60))
            let report = try await drive(cluster: cluster, client: client, lab: lab, adminToken: adminToken, progress: progress)
            await cluster.stopAll()
            await lab?.destroy()
            return report
        } catch {
            await cluster.stopAll()
            await lab?.destroy()
            throw error
        }
    }

    func drive(cluster: LocalCluster, client: BackendClient, lab: NetworkLab?, adminToken: String,
               progress: @escaping @Sendable (String) -> Void) async throws -> ScenarioReport {
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
        let injector = FaultInjector(cluster: cluster, client: client, lab: lab)
        let workload = Workload(
            fronts: layout.frontEnds.map { ($0.name, layout.url(of: $0.name)) },
            catalogReplicas: Dictionary(uniqueKeysWithValues: catalogNames.map { ($0, layout.url(of: $0)) }),
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
                                    faults: faultLog, leaderships: Leaderships(layout: layout), takeover: takeover)
            .report(scenario: name)
        if !report.violations.isEmpty || report.errorsOutsideFailover > 0 { history.write(to: layout.dataDirectory.appendingPathComponent("history.txt"), faults: faultLog) }
        return report
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
