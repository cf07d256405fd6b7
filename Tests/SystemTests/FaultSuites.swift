import BazarHarness
import BazarService
import BazarTestSupport
import Foundation
import Testing

/// The fault scenarios of `shared/spec/consistency.md`: real processes killed, paused, restarted
/// and cut off under 16 concurrent clients, then G1–G8 checked against the history, the replicas'
/// final states and their logs. One scenario at a time, whichever suite: each loads the machine as
/// much as the timing it checks can take. `BAZAR_FAULT_SECONDS` sets each run's length (20 by default).
@Suite("Faults", .serialized)
struct FaultSuites {
    /// One run of a scenario: its index and the store it runs on.
    struct Run: Sendable, CustomTestStringConvertible {
        let index: Int
        let storage: SystemCluster.Storage
        var testDescription: String { "scenario \(index) on \(storage)" }
    }

    /// The scenarios that run by default (`runsByDefault`: one of each kind of fault for each set of
    /// rules; the deterministic simulation covers the fault schedules), each once, on SQLite and
    /// PostgreSQL in turn: the stores are plain repositories that know nothing of the protocol
    /// (both are tested against the same contract in the unit tests), so a second run of every
    /// scenario on the other store doubled the slowest part of `swift test` for little.
    /// `BAZAR_FAULT_SCENARIOS=all` runs every scenario; `BAZAR_FAULT_STORAGE=both` each on both
    /// stores, `sqlite` or `postgres` on that one only; `BAZAR_FAULT_SCENARIO=N` only scenario N
    /// (0-based, of all), for investigating one.
    static func runs(of scenarios: [FaultScenario], startingWith first: SystemCluster.Storage = .sqlite) -> [Run] {
        let environment = ProcessInfo.processInfo.environment
        let indices = scenarios.indices.filter { index in
            if let only = environment["BAZAR_FAULT_SCENARIO"].flatMap(Int.init) { return index == only }
            return environment["BAZAR_FAULT_SCENARIOS"] == "all" || scenarios[index].runsByDefault
        }
        switch environment["BAZAR_FAULT_STORAGE"] {
        case "both":
            return SystemCluster.Storage.allCases.flatMap { storage in indices.map { Run(index: $0, storage: storage) } }
        case let name?:
            guard let storage = SystemCluster.Storage(rawValue: name) else {
                fatalError("BAZAR_FAULT_STORAGE=\(name): expected sqlite, postgres or both")
            }
            return indices.map { Run(index: $0, storage: storage) }
        case nil:
            let stores = [first] + SystemCluster.Storage.allCases.filter { $0 != first }
            return indices.enumerated().map { turn, index in Run(index: index, storage: stores[turn % stores.count]) }
        }
    }
}

extension FaultSuites {
    @Suite("G1-G8 under crashes and pauses, two replicas each")
    struct CrashFaultTests {
        static let seconds = Int(ProcessInfo.processInfo.environment["BAZAR_FAULT_SECONDS"] ?? "") ?? 20
        static let scenarios = FaultScenario.standard(duration: .seconds(seconds))

        @Test("scenario keeps G1-G8", arguments: FaultSuites.runs(of: scenarios))
        func scenario(_ run: FaultSuites.Run) async throws {
            try await Self.run(Self.scenarios[run.index], storage: run.storage, topology: .standard)
        }

        /// Runs one scenario on a new cluster and expects every guarantee to hold.
        static func run(_ scenario: FaultScenario, storage: SystemCluster.Storage, topology: LocalTopology) async throws {
            let layout = try SystemCluster.makeLayout(storage, topology: topology, frontEnds: FaultScenario.frontEnds)
            let report = try await ClusterSlots.shared.run {
                try await scenario.run(layout: layout, adminToken: SystemCluster.adminToken) { line in print("[\(storage)] \(line)") }
            }
            print("[\(storage)] \(report)")
            #expect(report.violations.isEmpty, "\(report.violations.joined(separator: "; "))")
            #expect(report.errorRateOutsideFailover < 0.01,
                    "error rate outside failover windows: \(report.errorRateOutsideFailover); first errors: \(report.errorsOutsideFailoverSample.joined(separator: "; "))")
            #expect(report.purchasesAcknowledged > 0)
            if report.violations.isEmpty, report.errorRateOutsideFailover < 0.01 { try? FileManager.default.removeItem(at: layout.dataDirectory) }
            else { print("logs kept in \(layout.dataDirectory.path)") }
        }
    }

    /// The network faults of G7 with three catalog and three order replicas, each member in a network
    /// namespace of its own: cuts, a one-way cut, a split with the front end on the minority side, a
    /// paused leader and the crash scenarios, then G1–G8. `BAZAR_FAULT_SCENARIO` and
    /// `BAZAR_FAULT_STORAGE` narrow them as above.
    @Suite("G1-G8 under partitions, three replicas each",
           .enabled(if: NetworkLab.isAvailable, "needs root, ip netns and iptables"))
    struct PartitionFaultTests {
        static let topology = LocalTopology(catalogReplicas: 3, orderReplicas: 3)
        static let scenarios = FaultScenario.partitions(duration: .seconds(CrashFaultTests.seconds), topology: topology)

        // PostgreSQL first: the leader paused meets the store it did not meet with two replicas,
        // and the cuts fall on both (a leader cut off on each, the split and the one-way cut apart).
        @Test("scenario keeps G1-G8", arguments: FaultSuites.runs(of: scenarios, startingWith: .postgres))
        func scenario(_ run: FaultSuites.Run) async throws {
            try await CrashFaultTests.run(Self.scenarios[run.index], storage: run.storage, topology: Self.topology)
        }
    }
}
