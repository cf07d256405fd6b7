import BazarReplication
import Testing

/// The commit index's waiters: a follower's read waits for the index to cover what it may show,
/// woken by the push that moves it, and gives up after its timeout.
@Suite("Commit point")
struct CommitPointTests {
    @Test("a wait already covered returns at once")
    func covered() async {
        let point = CommitPoint()
        point.advance(to: 5)
        #expect(await point.wait(until: 5, timeout: .zero))
        #expect(point.seq == 5)
    }

    @Test("an advance that covers the wait wakes it; one that does not leaves it waiting")
    func wokenByAdvance() async throws {
        let point = CommitPoint()
        // A timeout no advance below comes near: only the advance can end this wait with true.
        async let reached = point.wait(until: 3, timeout: .seconds(600))
        try await Task.sleep(for: .milliseconds(20))
        point.advance(to: 2)
        point.advance(to: 3)
        #expect(await reached)
    }

    @Test("a wait the index never covers gives up after its timeout")
    func timesOut() async {
        let point = CommitPoint()
        let started = ContinuousClock.now
        #expect(await !point.wait(until: 1, timeout: .milliseconds(50)))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        // The index only grows, and later waits still work.
        point.advance(to: 1)
        point.advance(to: 0)
        #expect(point.seq == 1)
        #expect(await point.wait(until: 1, timeout: .zero))
    }

    @Test("many waits, some covered and some timed out, all end")
    func manyWaits() async {
        let point = CommitPoint()
        let outcomes = await withTaskGroup(of: (Int64, Bool).self) { tasks in
            for seq in Int64(1)...40 {
                tasks.addTask { (seq, await point.wait(until: seq, timeout: .milliseconds(200))) }
            }
            tasks.addTask {
                point.advance(to: 20)
                return (0, true)
            }
            var outcomes: [Int64: Bool] = [:]
            for await (seq, reached) in tasks where seq > 0 { outcomes[seq] = reached }
            return outcomes
        }
        #expect(outcomes.count == 40)
        #expect(outcomes.filter { $0.key <= 20 }.values.allSatisfy { $0 })
        #expect(outcomes.filter { $0.key > 20 }.values.allSatisfy { !$0 })
    }
}
