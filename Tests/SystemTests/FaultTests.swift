import BazarHarness
import Foundation
import Testing

/// The fault scenarios of `shared/spec/consistency.md`: real processes killed, paused and
/// restarted under 16 concurrent clients, then G1–G6 and G8 checked against the history and the
/// replicas' final states. `BAZAR_FAULT_SECONDS` sets each run's length (20 by default).
@Suite("Faults: G1-G6 and G8 under crashes and pauses", .serialized)
struct FaultTests {
    static let seconds = Int(ProcessInfo.processInfo.environment["BAZAR_FAULT_SECONDS"] ?? "") ?? 20
    static let scenarios = FaultScenario.standard(duration: .seconds(seconds)).enumerated()
        .filter { only == nil || only == $0.offset }.map(\.element)
    /// `BAZAR_FAULT_SCENARIO=N` runs only scenario N (0-based), for investigating one.
    static let only = Int(ProcessInfo.processInfo.environment["BAZAR_FAULT_SCENARIO"] ?? "")
    static let storages = ProcessInfo.processInfo.environment["BAZAR_FAULT_STORAGE"].flatMap(SystemCluster.Storage.init(rawValue:)).map { [$0] }
        ?? SystemCluster.Storage.allCases

    @Test("scenario keeps G1-G6 and G8", arguments: storages, scenarios.indices)
    func scenario(storage: SystemCluster.Storage, index: Int) async throws {
        let scenario = Self.scenarios[index]
        let layout = try SystemCluster.makeLayout(storage)
        let report = try await scenario.run(layout: layout, adminToken: SystemCluster.adminToken) { line in
            print("[\(storage)] \(line)")
        }
        print("[\(storage)] \(report)")
        #expect(report.violations.isEmpty, "\(report.violations.joined(separator: "; "))")
        #expect(report.errorRateOutsideFailover < 0.01, "error rate outside failover windows: \(report.errorRateOutsideFailover)")
        #expect(report.purchasesAcknowledged > 0)
        if report.violations.isEmpty { try? FileManager.default.removeItem(at: layout.dataDirectory) }
        else { print("logs kept in \(layout.dataDirectory.path)") }
    }
}
