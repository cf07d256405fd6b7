import BazarModels
import Synchronization
import Testing
@testable import CatalogService

/// The catalog leader's table of subscribed front ends, and the wait a new subscriber makes for
/// the invalidations that went out without it.
@Suite("Front-end subscriptions")
struct FrontEndSubscribersTests {
    let lease = Duration.seconds(1)

    @Test("a renewal keeps its number and moves the lapse on; a new term, a lapse or a cut start a new one")
    func numbers() async {
        let table = FrontEndSubscribers()
        let start = ContinuousClock.now
        let first = await table.renew("http://a", term: 2, sentAt: start, lease: lease, at: start)
        #expect(!first.admitted)
        await table.admit(first)
        let renewed = await table.renew("http://a", term: 2, sentAt: start + .milliseconds(500), lease: lease, at: start + .milliseconds(500))
        #expect(renewed.number == first.number && renewed.admitted && renewed.expiry == start + .milliseconds(1500))
        // Another front end, another number.
        let other = await table.renew("http://b", term: 2, sentAt: start, lease: lease, at: start)
        #expect(other.number != first.number)
        #expect(await table.live(at: start + .milliseconds(1200)).map(\.url) == ["http://a"])
        // Lapsed: whatever it missed meanwhile was not sent to it.
        let late = await table.renew("http://a", term: 2, sentAt: start + .seconds(2), lease: lease, at: start + .seconds(2))
        #expect(late.number != first.number && !late.admitted)
        // A newer term.
        let newer = await table.renew("http://a", term: 3, sentAt: start + .seconds(2), lease: lease, at: start + .seconds(2))
        #expect(newer.number != late.number)
        // Cut: the writer waits until it lapses; the next renewal is a new subscription.
        #expect(await table.cut(newer) == start + .seconds(3))
        #expect(await table.cut(newer) == nil)
        #expect(await table.current(newer) == nil)
        let again = await table.renew("http://a", term: 3, sentAt: start + .seconds(2), lease: lease, at: start + .seconds(2))
        #expect(again.number != newer.number)
    }

    @Test("a subscriber waits for the batch on its way when it joined, and no longer")
    func settled() async throws {
        let batches = InvalidationBatches()
        await batches.settled()  // nothing on its way: at once
        guard case .send = await batches.join(InvalidationBatchesTests.book(1, version: 2)) else {
            Issue.record("the first writer sends")
            return
        }
        let done = Mutex(false)
        let watcher = Task {
            await batches.settled()
            done.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(done.withLock { $0 } == false)
        await batches.delivered()
        await watcher.value
        #expect(done.withLock { $0 })
    }
}
