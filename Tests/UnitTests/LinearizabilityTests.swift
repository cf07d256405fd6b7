import BazarHarness
import BazarLoad
import Foundation
import Testing

@Suite("Linearizability checker")
struct LinearizabilityTests {
    let t0 = ContinuousClock.now

    func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

    /// An operation from `start` to `end` ms after t0; `end == nil`: no answer.
    func op(_ kind: BookOperation.Kind, _ start: Int, _ end: Int?, _ label: String = "") -> BookOperation {
        BookOperation(kind, start: at(start), end: end.map(at), label: label)
    }

    func check(_ ops: [BookOperation], quantity: Int = 1, version: Int = 1, price: Int = 1000) -> LinearizabilityResult {
        LinearizabilityChecker.check(ops, initial: BookState(quantity: quantity, version: version, priceCents: price))
    }

    @Test("a sequential legal history is linearizable, and a wrong last read is caught")
    func sequential() {
        var ops = [
            op(.read(quantity: 2, version: 1), 0, 10),
            op(.purchase(.sold(version: 2)), 20, 30),
            op(.read(quantity: 1, version: 2), 40, 50),
            op(.restock(count: 3, result: (quantity: 4, version: 3)), 60, 70),
            op(.setPrice(cents: 999, version: 4), 80, 90),
            op(.read(quantity: 4, version: 4, priceCents: 999), 100, 110),
            op(.purchase(.sold(version: nil)), 120, 130),
            op(.read(quantity: 3, version: 5), 140, 150),
        ]
        #expect(check(ops, quantity: 2).isLinearizable)
        ops[7] = op(.read(quantity: 4, version: 5), 140, 150, "wrong")
        let result = check(ops, quantity: 2)
        #expect(result.failure?.failingInstant == at(150))
        #expect(result.failure?.window.contains { $0.label == "wrong" } == true)
    }

    @Test("an empty history is linearizable; an operation ending before it starts is rejected")
    func edgeCases() {
        #expect(check([]).isLinearizable)
        guard case .unknown = check([op(.read(quantity: 1, version: 1), 10, 5)]) else {
            Issue.record("malformed input accepted")
            return
        }
    }

    @Test("two overlapping purchases of the last copy cannot both be sold")
    func lastCopySoldTwice() {
        let ops = [op(.purchase(.sold(version: nil)), 0, 50), op(.purchase(.sold(version: nil)), 10, 60)]
        #expect(check(ops).failure != nil)
        #expect(check(ops, quantity: 2).isLinearizable)
    }

    @Test("sold and out of stock on the last copy are linearizable only in a consistent order")
    func soldAndOutOfStock() {
        // Overlapping: the sale goes first.
        #expect(check([op(.purchase(.outOfStock), 0, 50), op(.purchase(.sold(version: 2)), 10, 60)]).isLinearizable)
        // Sequential, sold then out of stock: fine.
        #expect(check([op(.purchase(.sold(version: 2)), 0, 10), op(.purchase(.outOfStock), 20, 30)]).isLinearizable)
        // Sequential, out of stock while a copy was left, then sold: no order explains it.
        #expect(check([op(.purchase(.outOfStock), 0, 10), op(.purchase(.sold(version: 2)), 20, 30)]).failure != nil)
    }

    @Test("a stale read after a completed write is not linearizable")
    func staleRead() {
        let restock = op(.restock(count: 3, result: (quantity: 4, version: 2)), 0, 10)
        #expect(check([restock, op(.read(quantity: 1, version: 1), 20, 30)]).failure != nil)
        // Overlapping the write, the old value is fine.
        #expect(check([restock, op(.read(quantity: 1, version: 1), 5, 30)]).isLinearizable)
    }

    @Test("a read that sees an in-flight write, then one that no longer sees it, is not linearizable")
    func flicker() {
        let restock = op(.restock(count: 3, result: (quantity: 4, version: 2)), 0, 100)
        let result = check([restock, op(.read(quantity: 4, version: 2), 10, 20, "new"), op(.read(quantity: 1, version: 1), 30, 40, "old")])
        let failure = result.failure
        #expect(failure?.failingInstant == at(40))
        #expect(failure?.window.map(\.label) == ["", "new", "old"])
        #expect(result.description.contains("read → quantity 1, version 1  ◀"))
        #expect(result.description.contains("Longest legal order found"))
        // Old then new is fine.
        #expect(check([restock, op(.read(quantity: 1, version: 1), 10, 20), op(.read(quantity: 4, version: 2), 30, 40)]).isLinearizable)
    }

    @Test("a purchase without an answer is assumed applied when a later read needs it")
    func unknownPurchaseApplied() {
        let ops = [
            op(.purchase(.unknown), 0, nil),
            op(.read(quantity: 0, version: 2), 50, 60),
            op(.purchase(.outOfStock), 70, 80),
        ]
        #expect(check(ops).isLinearizable)
        // Applied late: first unseen, then seen.
        #expect(check([op(.purchase(.unknown), 0, nil), op(.read(quantity: 1, version: 1), 50, 60),
                       op(.read(quantity: 0, version: 2), 70, 80)]).isLinearizable)
        // But once seen it cannot disappear.
        #expect(check([op(.purchase(.unknown), 0, nil), op(.read(quantity: 0, version: 2), 50, 60),
                       op(.read(quantity: 1, version: 1), 70, 80)]).failure != nil)
        // And it cannot take effect before it was sent.
        #expect(check([op(.read(quantity: 0, version: 2), 0, 10), op(.purchase(.unknown), 20, nil)]).failure != nil)
    }

    @Test("a purchase without an answer is left out when nothing shows it")
    func unknownPurchaseLeftOut() {
        let ops = [
            op(.purchase(.unknown), 0, nil),
            op(.read(quantity: 1, version: 1), 50, 60),
            op(.purchase(.sold(version: 2)), 70, 80),
            op(.read(quantity: 0, version: 2), 90, 100),
        ]
        #expect(check(ops).isLinearizable)
        // A sold answer with a timeout-style end is treated as unknown too.
        #expect(check([op(.purchase(.sold(version: 9)), 0, nil), op(.read(quantity: 1, version: 1), 50, 60)]).isLinearizable)
    }

    @Test("a read whose version skips one is not linearizable unless an unanswered write explains it")
    func versionSkip() {
        let setPrice = op(.setPrice(cents: 500, version: 2), 0, 10)
        #expect(check([setPrice, op(.read(quantity: 1, version: 3), 20, 30)]).failure != nil)
        let unanswered = op(.setPrice(cents: 700, version: nil), 5, nil)
        #expect(check([setPrice, unanswered, op(.read(quantity: 1, version: 3), 20, 30)]).isLinearizable)
        // The unanswered write can only come after the answered one (which got version 2), so its price wins.
        #expect(check([setPrice, unanswered, op(.read(quantity: 1, version: 3, priceCents: 700), 20, 30)]).isLinearizable)
        #expect(check([setPrice, unanswered, op(.read(quantity: 1, version: 3, priceCents: 500), 20, 30)]).failure != nil)
    }

    @Test("versions returned by writes must follow their real-time order")
    func writeVersionsAgainstRealTime() {
        let a = op(.purchase(.sold(version: 3)), 0, 10)
        let b = op(.purchase(.sold(version: 2)), 20, 30)
        #expect(check([a, b], quantity: 5).failure != nil)
        // Overlapping, either order is allowed.
        #expect(check([op(.purchase(.sold(version: 3)), 0, 30), op(.purchase(.sold(version: 2)), 10, 20)], quantity: 5).isLinearizable)
        // A restock's reported state must be the one it produced.
        #expect(check([op(.restock(count: 3, result: (quantity: 4, version: 2)), 0, 10)]).isLinearizable)
        #expect(check([op(.restock(count: 3, result: (quantity: 5, version: 2)), 0, 10)]).failure != nil)
    }

    @Test("a large random legal history is linearizable within the budget")
    func largeLegal() {
        let history = RandomHistory(seed: 42, count: 2_000, t0: t0)
        #expect(history.operations.filter { !$0.hasKnownOutcome }.count >= 10)
        let result = LinearizabilityChecker.check(history.operations, initial: history.initial, budget: .seconds(10))
        #expect(result.isLinearizable, "\(result)")
    }

    @Test("the same history with one stale read is not linearizable, and the window shows that read")
    func largeCorrupted() throws {
        var history = RandomHistory(seed: 42, count: 2_000, t0: t0)
        let corrupted = history.corruptOneRead()
        let result = LinearizabilityChecker.check(history.operations, initial: history.initial, budget: .seconds(10))
        let failure = try #require(result.failure, "\(result)")
        #expect(failure.windowMinimized)
        #expect(failure.failingInstant == history.operations[corrupted].end)
        #expect(failure.window.contains { $0.label == "corrupted" })
        #expect(failure.window.count <= 20)
        #expect(failure.description.contains("corrupted"))
    }

    @Test("the budget turns a long search into an explicit unknown")
    func budget() {
        let history = RandomHistory(seed: 7, count: 2_000, t0: t0)
        guard case .unknown = LinearizabilityChecker.check(history.operations, initial: history.initial, budget: .zero) else {
            Issue.record("expected .unknown with a zero budget")
            return
        }
    }

    @Test("checkEachBook splits records by book")
    func perBook() {
        let records: [(book: Int, op: BookOperation)] = [
            (1, op(.purchase(.sold(version: nil)), 0, 50)),
            (2, op(.purchase(.sold(version: nil)), 10, 60)),
            (2, op(.purchase(.sold(version: nil)), 20, 70)),
        ]
        let results = LinearizabilityChecker.checkEachBook(records, initialState: { _ in BookState(quantity: 1, version: 1) }) {
            (book: $0.book, operation: $0.op)
        }
        #expect(results[1]?.isLinearizable == true)
        #expect(results[2]?.failure != nil)
    }
}

/// A history produced by a sequential book at random linearization points, with intervals around them
/// that overlap (about 8 operations in flight), and some writes that never got an answer (applied or not).
private struct RandomHistory {
    var operations: [BookOperation] = []
    let initial = BookState(quantity: 20, version: 1, priceCents: 1000)
    /// The state at every version, for making a stale read.
    var statesByVersion: [Int: BookState] = [:]

    init(seed: UInt64, count: Int, t0: ContinuousClock.Instant) {
        var rng = SplitMix64(seed: seed)
        var state = initial
        statesByVersion[state.version] = state
        var t = 20
        func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }
        for i in 0..<count {
            t += Int.random(in: 1...6, using: &rng)
            let start = at(t - Int.random(in: 0...15, using: &rng))
            let end = at(t + Int.random(in: 0...15, using: &rng))
            let roll = Int.random(in: 0..<100, using: &rng)
            let unanswered = roll >= 75 && Int.random(in: 0..<100, using: &rng) < 6
            let applied = !unanswered || Bool.random(using: &rng)
            let kind: BookOperation.Kind
            switch roll {
            case ..<75:
                kind = .read(quantity: state.quantity, version: state.version)
            case ..<88:
                if state.quantity > 0 && applied {
                    state.quantity -= 1; state.version += 1
                    kind = unanswered ? .purchase(.unknown) : .purchase(.sold(version: roll < 80 ? nil : state.version))
                } else {
                    kind = unanswered ? .purchase(.unknown) : .purchase(.outOfStock)
                }
            case ..<95:
                let count = Int.random(in: 1...3, using: &rng)
                if applied { state.quantity += count; state.version += 1 }
                kind = .restock(count: count, result: unanswered ? nil : (quantity: state.quantity, version: state.version))
            default:
                let cents = Int.random(in: 500...1500, using: &rng)
                if applied { state.priceCents = cents; state.version += 1 }
                kind = .setPrice(cents: cents, version: unanswered ? nil : state.version)
            }
            statesByVersion[state.version] = state
            operations.append(BookOperation(kind, start: start, end: unanswered ? nil : end, label: "op\(i)"))
        }
    }

    /// Turns a read two thirds in into a stale read of the state ten versions earlier; returns its index.
    mutating func corruptOneRead() -> Int {
        let index = operations.indices.first { i in
            guard i >= operations.count * 2 / 3, case let .read(_, version, _) = operations[i].kind else { return false }
            return statesByVersion[version - 10] != nil
        }!
        guard case let .read(_, version, _) = operations[index].kind, let stale = statesByVersion[version - 10] else { fatalError() }
        operations[index].kind = .read(quantity: stale.quantity, version: stale.version)
        operations[index].label = "corrupted"
        return index
    }
}
