import Foundation

/// How many clusters of real processes one test run starts at a time (`BAZAR_TEST_CLUSTERS`, 1 by
/// default). Test suites run in parallel; five clusters starting and loading each other on two
/// cores starved the one whose deadlines a test checks (a front end that answered nothing for
/// seconds in a 50-buyer burst). A test that starts a cluster takes a slot for its whole life.
public actor ClusterSlots {
    public static let shared = ClusterSlots(
        limit: max(1, Int(ProcessInfo.processInfo.environment["BAZAR_TEST_CLUSTERS"] ?? "") ?? 1))

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) { free = limit }

    /// Runs `body` once a slot is free, and frees it afterwards whatever happened.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            release()
            return result
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
