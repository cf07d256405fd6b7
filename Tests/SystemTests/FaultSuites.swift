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
struct FaultSuites {}

extension FaultSuites {
    @Suite("G1-G8 under crashes and pauses, two replicas each")
    struct CrashFaultTests {
        static let seconds = Int(ProcessInfo.processInfo.environment["BAZAR_FAULT_SECONDS"] ?? "") ?? 20
        static let scenarios = FaultScenario.standard(duration: .seconds(seconds)).enumerated()
            .filter { only == nil || only == $0.offset }.map(\.element)
        /// `BAZAR_FAULT_SCENARIO=N` runs only scenario N (0-based), for investigating one.
        static let only = Int(ProcessInfo.processInfo.environment["BAZAR_FAULT_SCENARIO"] ?? "")
        static let storages = ProcessInfo.processInfo.environment["BAZAR_FAULT_STORAGE"].flatMap(SystemCluster.Storage.init(rawValue:)).map { [$0] }
            ?? SystemCluster.Storage.allCases

        @Test("scenario keeps G1-G8", arguments: storages, scenarios.indices)
        func scenario(storage: SystemCluster.Storage, index: Int) async throws {
            try await Self.run(Self.scenarios[index], storage: storage, topology: .standard)
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
        static let scenarios = FaultScenario.partitions(duration: .seconds(CrashFaultTests.seconds), topology: topology).enumerated()
            .filter { CrashFaultTests.only == nil || CrashFaultTests.only == $0.offset }.map(\.element)

        @Test("scenario keeps G1-G8", arguments: CrashFaultTests.storages, scenarios.indices)
        func scenario(storage: SystemCluster.Storage, index: Int) async throws {
            try await CrashFaultTests.run(Self.scenarios[index], storage: storage, topology: Self.topology)
        }
    }
}
