import BazarLoad
import Foundation

// Linearizability checker for ONE book's history (G8).
//
// G8 is checked per book: linearizability is compositional (Herlihy & Wing's locality, "P-compositionality"
// in Porcupine), so the caller splits the history by book and checks each part on its own, which keeps
// every search small. The search is Wing & Gong's, with Lowe's memoization, as in Porcupine (checker.go)
// and Knossos: walk the call/return events in time order, linearize a pending call, backtrack when an
// operation's return comes before it could be placed, and never revisit a (linearized set, state) pair.

// MARK: - Model

/// The state of one book as G8 sees it.
public struct BookState: Hashable, Sendable, CustomStringConvertible {
    public var quantity: Int
    /// Grows by exactly one at every successful write (purchase, restock, price change).
    public var version: Int
    /// Only compared when a read reports a price.
    public var priceCents: Int

    public init(quantity: Int, version: Int, priceCents: Int = 0) {
        self.quantity = quantity
        self.version = version
        self.priceCents = priceCents
    }

    public var description: String { "quantity \(quantity), version \(version), price \(priceCents)¢" }
}

/// One operation on one book as a client saw it: when it was sent, when (if ever) the answer came, and
/// the answer.
///
/// `end == nil` means the client never learned the outcome (timeout, connection error, 5xx): the
/// operation may have taken effect at any time after `start`, or never. Any answer given with such an
/// operation is ignored (a read is dropped, an out-of-stock purchase changes nothing either way).
///
/// Retries: the caller must merge the attempts of one logical write that share an Idempotency-Key into
/// ONE operation: `start` = the first attempt's start; `end` and the answer = those of the attempt that
/// got a definite answer (2xx, or a definite refusal such as out of stock); if no attempt got one,
/// `end = nil` and the answer unknown. Attempts checked separately would count one purchase twice.
public struct BookOperation: Sendable, CustomStringConvertible {
    public enum PurchaseAnswer: Sendable, Equatable {
        /// A copy was sold; `version` is the book's version after the sale when the answer told it.
        case sold(version: Int?)
        case outOfStock
        /// No definite answer; only valid with `end == nil` (an answered `.unknown` is treated as unanswered).
        case unknown
    }

    public enum Kind: Sendable {
        /// A read that answered (200). Unanswered reads tell nothing: leave them out.
        case read(quantity: Int, version: Int, priceCents: Int? = nil)
        case purchase(PurchaseAnswer)
        /// Adds `count` copies; `result` is the state the answer reported, when known.
        case restock(count: Int, result: (quantity: Int, version: Int)?)
        /// Sets the price; `version` is the version the answer reported, when known.
        case setPrice(cents: Int, version: Int?)
    }

    public var kind: Kind
    public var start: ContinuousClock.Instant
    public var end: ContinuousClock.Instant?
    /// Free text shown in failure reports (client, request id, replica …).
    public var label: String

    public init(_ kind: Kind, start: ContinuousClock.Instant, end: ContinuousClock.Instant?, label: String = "") {
        self.kind = kind
        self.start = start
        self.end = end
        self.label = label
    }

    /// True when the client got a definite answer, so the operation must be placed before `end`.
    public var hasKnownOutcome: Bool {
        if end == nil { return false }
        if case .purchase(.unknown) = kind { return false }
        return true
    }

    /// The operation and its answer, e.g. `purchase → sold, version 18`.
    public var summary: String {
        let known = hasKnownOutcome
        switch kind {
        case let .read(quantity, version, price):
            return "read → quantity \(quantity), version \(version)" + (price.map { ", price \($0)¢" } ?? "")
                + (known ? "" : " (no answer: ignored)")
        case let .purchase(answer):
            guard known else { return "purchase → no answer" }
            switch answer {
            case let .sold(version): return "purchase → sold" + (version.map { ", version \($0)" } ?? "")
            case .outOfStock: return "purchase → out of stock"
            case .unknown: return "purchase → no answer"
            }
        case let .restock(count, result):
            guard known, let result else { return "restock +\(count) → no answer" }
            return "restock +\(count) → quantity \(result.quantity), version \(result.version)"
        case let .setPrice(cents, version):
            guard known else { return "set price \(cents)¢ → no answer" }
            return "set price \(cents)¢ → " + (version.map { "version \($0)" } ?? "ok")
        }
    }

    public var description: String { (label.isEmpty ? "" : label + " ") + summary }
}

// MARK: - Result

public enum LinearizabilityResult: Sendable, CustomStringConvertible {
    case linearizable
    case notLinearizable(LinearizabilityFailure)
    /// The search ran out of its time or memory budget (or the input was malformed); says which.
    case unknown(String)

    public var isLinearizable: Bool { if case .linearizable = self { true } else { false } }
    public var failure: LinearizabilityFailure? { if case let .notLinearizable(f) = self { f } else { nil } }

    public var description: String {
        switch self {
        case .linearizable: "linearizable"
        case let .notLinearizable(failure): failure.description
        case let .unknown(reason): "linearizability unknown: \(reason)"
        }
    }
}

/// Why a book's history is not linearizable, cut down to the smallest failing prefix.
public struct LinearizabilityFailure: Sendable, CustomStringConvertible {
    /// The earliest event time t such that the history cut at t (operations that started by t, answers
    /// that came after t counted as unknown) is already not linearizable.
    public var failingInstant: ContinuousClock.Instant
    /// `failingInstant` relative to the earliest start in the history.
    public var failingOffset: Duration
    /// False when the budget ran out while narrowing the window: `failingInstant` is then only an upper bound.
    public var windowMinimized: Bool
    public var initial: BookState
    public var operationCount: Int
    /// Up to ~20 operations around t, by start time; rendered in `windowLines`.
    public var window: [BookOperation]
    public var windowLines: [String]
    /// Unknown-outcome operations started before t that did not fit in `window`.
    public var omittedUnknownCount: Int
    /// The longest legal order the search reached on the cut history, with the state after each step.
    public var longestLinearization: [(operation: BookOperation, after: BookState)]
    /// Answered operations (by t) missing from the longest order: those answered at t first, then by end; up to 8.
    public var unplaced: [BookOperation]
    /// The earliest start, the zero of every time in the report.
    public var origin: ContinuousClock.Instant

    public var description: String {
        var lines: [String] = []
        let t = String(format: "%.3f s", seconds(failingOffset))
        lines.append("G8: book history of \(operationCount) operations is not linearizable (initial state: \(initial)).")
        lines.append(windowMinimized
            ? "Smallest failing prefix: up to \(t) (operations started by then; answers after it count as unknown)."
            : "Failing by \(t) (budget ran out before the window was narrowed further).")
        lines.append("Operations around \(t), by start (s since first start; ◀ = answer at \(t)):")
        lines += windowLines.map { "  " + $0 }
        if omittedUnknownCount > 0 { lines.append("  … and \(omittedUnknownCount) older operations without an answer") }
        let shown = longestLinearization.suffix(15)
        lines.append("Longest legal order found: \(longestLinearization.count) operations"
            + (shown.count < longestLinearization.count ? ", last \(shown.count):" : ":"))
        if shown.count < longestLinearization.count { lines.append("  …") }
        for step in shown { lines.append("  " + render(step.operation, origin: origin, failing: nil) + "   ⇒ " + step.after.description) }
        lines.append("  state then: \(longestLinearization.last?.after ?? initial)")
        if !unplaced.isEmpty {
            lines.append("Answered operations it could not place next (the answer at \(t) first, then by end):")
            lines += unplaced.map { "  " + render($0, origin: origin, failing: failingInstant) }
        }
        return lines.joined(separator: "\n")
    }
}

/// One line: start and end in seconds since `origin`, label, operation and answer.
private func render(_ op: BookOperation, origin: ContinuousClock.Instant, failing: ContinuousClock.Instant?) -> String {
    let start = String(format: "%8.3f", seconds(op.start - origin))
    let end = op.end.map { String(format: "%8.3f", seconds($0 - origin)) } ?? "       ?"
    let mark = (failing != nil && op.hasKnownOutcome && op.end == failing) ? "  ◀" : ""
    let label = op.label.isEmpty ? "" : op.label + "  "
    return "\(start) – \(end)  \(label)\(op.summary)\(mark)"
}

private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

// MARK: - Checker

public enum LinearizabilityChecker {
    /// Checks one book's history against the book model, starting from `initial`.
    ///
    /// `budget` bounds the whole check, including narrowing the failing window; past it the answer is
    /// `.unknown` (or, while narrowing, a failure whose window is not minimal). `memoryLimitBytes` bounds
    /// the memo table.
    public static func check(
        _ operations: [BookOperation],
        initial: BookState,
        budget: Duration = .seconds(10),
        memoryLimitBytes: Int = 512 << 20
    ) -> LinearizabilityResult {
        let deadline = ContinuousClock.now + budget
        for (i, op) in operations.enumerated() {
            if let end = op.end, end < op.start { return .unknown("malformed input: operation #\(i) (\(op)) ends before it starts") }
        }
        guard let origin = operations.map(\.start).min() else { return .linearizable }

        let full = prepare(operations, origin: origin, cutoff: nil)
        var failing: (cutoff: Duration, prepared: [PreparedOp], longest: [Int])
        switch search(full, initial: initial, deadline: deadline, memoryLimit: memoryLimitBytes) {
        case .linearizable: return .linearizable
        case let .outOfBudget(reason): return .unknown(reason)
        case let .notLinearizable(longest):
            let lastEnd = full.compactMap(\.end).max() ?? .zero
            failing = (lastEnd, full, longest)
        }

        // Narrow to the earliest failing cut. Cutting at t keeps the operations started by t and turns
        // answers after t into unknown outcomes; any legal order of a later cut, stopped at t, is a legal
        // order of the cut at t, so "not linearizable" is monotone in t and a binary search finds the
        // earliest t. Only answer times can make a cut fail (a call alone can always be left out).
        let times = Array(Set(full.compactMap(\.end))).sorted()
        var lo = -1, hi = times.count - 1
        var minimized = true
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            let cut = prepare(operations, origin: origin, cutoff: times[mid])
            switch search(cut, initial: initial, deadline: deadline, memoryLimit: memoryLimitBytes) {
            case .linearizable: lo = mid
            case let .notLinearizable(longest): hi = mid; failing = (times[mid], cut, longest)
            case .outOfBudget: minimized = false
            }
            if !minimized { break }
        }
        return .notLinearizable(report(operations, origin: origin, initial: initial, cutoff: failing.cutoff,
                                       prepared: failing.prepared, longest: failing.longest, minimized: minimized))
    }

    /// Splits raw records by book and checks each book on its own. `operation` maps a record to its book and
    /// operation, or nil to skip it (merge retries into one record before, see `BookOperation`).
    public static func checkEachBook<Record, Book: Hashable>(
        _ records: [Record],
        initialState: (Book) -> BookState,
        budgetPerBook: Duration = .seconds(10),
        operation: (Record) -> (book: Book, operation: BookOperation)?
    ) -> [Book: LinearizabilityResult] {
        var byBook: [Book: [BookOperation]] = [:]
        for record in records {
            if let (book, op) = operation(record) { byBook[book, default: []].append(op) }
        }
        var results: [Book: LinearizabilityResult] = [:]
        for (book, ops) in byBook { results[book] = check(ops, initial: initialState(book), budget: budgetPerBook) }
        return results
    }

    // MARK: Preparation

    /// An operation reduced to what the search needs; `source` indexes the caller's array.
    struct PreparedOp {
        var step: Step
        var start: Duration
        var end: Duration?  // nil: may take effect any time after start, or never
        var source: Int
    }

    /// The effect and the checks of one operation; `Int.min` means "not checked".
    struct Step: Hashable {
        enum Code: UInt8 { case read, purchase, outOfStock, restock, setPrice }
        var code: Code
        var amount = 0  // restock count, or new price
        var wantQuantity = Int.min
        var wantVersion = Int.min
        var wantPrice = Int.min

        /// Reads and out-of-stock answers change nothing, which allows placing them greedily.
        var changesNothing: Bool { code == .read || code == .outOfStock }

        func apply(_ s: BookState) -> BookState? {
            var n = s
            switch code {
            case .read: break
            case .outOfStock: if s.quantity != 0 { return nil }
            case .purchase:
                if s.quantity <= 0 { return nil }
                n.quantity -= 1; n.version += 1
            case .restock: n.quantity += amount; n.version += 1
            case .setPrice: n.priceCents = amount; n.version += 1
            }
            if wantQuantity != .min, n.quantity != wantQuantity { return nil }
            if wantVersion != .min, n.version != wantVersion { return nil }
            if wantPrice != .min, n.priceCents != wantPrice { return nil }
            return n
        }
    }

    /// Normalizes operations (unknown outcomes lose their answers; answer-only operations without an
    /// answer are dropped) and, with a cutoff, keeps those started by it, answers after it becoming unknown.
    static func prepare(_ operations: [BookOperation], origin: ContinuousClock.Instant, cutoff: Duration?) -> [PreparedOp] {
        var result: [PreparedOp] = []
        result.reserveCapacity(operations.count)
        for (i, op) in operations.enumerated() {
            let start = op.start - origin
            if let cutoff, start > cutoff { continue }
            var end = op.hasKnownOutcome ? op.end.map { $0 - origin } : nil
            if let cutoff, let e = end, e > cutoff { end = nil }
            let known = end != nil
            let step: Step
            switch op.kind {
            case let .read(quantity, version, price):
                guard known else { continue }
                step = Step(code: .read, wantQuantity: quantity, wantVersion: version, wantPrice: price ?? .min)
            case let .purchase(answer):
                switch answer {
                case .outOfStock:
                    guard known else { continue }
                    step = Step(code: .outOfStock)
                case let .sold(version):
                    step = Step(code: .purchase, wantVersion: known ? version ?? .min : .min)
                case .unknown:
                    step = Step(code: .purchase)
                }
            case let .restock(count, stock):
                step = Step(code: .restock, amount: count, wantQuantity: known ? stock?.quantity ?? .min : .min,
                            wantVersion: known ? stock?.version ?? .min : .min)
            case let .setPrice(cents, version):
                step = Step(code: .setPrice, amount: cents, wantVersion: known ? version ?? .min : .min)
            }
            result.append(PreparedOp(step: step, start: start, end: end, source: i))
        }
        return result
    }

    // MARK: Search

    enum SearchOutcome {
        case linearizable
        /// `longest`: indices into the prepared operations, in linearization order.
        case notLinearizable(longest: [Int])
        case outOfBudget(String)
    }

    /// Wing & Gong / Lowe over a doubly linked list of call and return entries (node 2i = call of i,
    /// 2i+1 = return of i; unknown-outcome operations have no return: it would sit at infinity). The search
    /// succeeds once every answered operation is placed; unanswered ones may stay out.
    ///
    /// Three reductions keep it fast without losing answers (each only drops orders that some kept order
    /// can replace):
    /// - An operation that changes nothing (read, out of stock) and is legal now is placed now, and if that
    ///   fails the node fails: moving it earlier in any legal order keeps the order legal.
    /// - Operations with the same effect and checks are interchangeable: of those pending, only the one that
    ///   must end first (answered before unanswered, then earliest start) may go next. Swapping two such
    ///   operations in a legal order keeps it legal, and keeps unanswered retries from being tried in every
    ///   combination.
    /// - Versions only grow, so no write may lift the version past one that a not yet placed answered
    ///   operation must see.
    static func search(_ ops: [PreparedOp], initial: BookState, deadline: ContinuousClock.Instant, memoryLimit: Int) -> SearchOutcome {
        let n = ops.count
        var remainingKnown = ops.reduce(0) { $0 + ($1.end == nil ? 0 : 1) }
        if remainingKnown == 0 { return .linearizable }

        // Without a read that shows the price, prices cannot be told apart: ignore them, so that price
        // changes with different prices become interchangeable and states that differ only in price merge.
        var steps = ops.map(\.step)
        var initial = initial
        if !steps.contains(where: { $0.wantPrice != .min }) {
            initial.priceCents = 0
            for i in steps.indices where steps[i].code == .setPrice { steps[i].amount = 0 }
        }
        let known = ops.map { $0.end != nil }

        // Events in time order; at equal times calls come first (concurrent, as in Porcupine).
        var events: [(time: Duration, isReturn: Bool, op: Int)] = []
        events.reserveCapacity(2 * n)
        for (i, op) in ops.enumerated() {
            events.append((op.start, false, i))
            if let end = op.end { events.append((end, true, i)) }
        }
        events.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isReturn != b.isReturn { return !a.isReturn }
            return a.op < b.op
        }
        let head = 2 * n
        var next = [Int](repeating: -1, count: 2 * n + 1)
        var prev = [Int](repeating: -1, count: 2 * n + 1)
        var last = head
        for e in events {
            let node = 2 * e.op + (e.isReturn ? 1 : 0)
            next[last] = node; prev[node] = last; last = node
        }

        // Interchangeable operations share a group; `rank` orders a group: earliest end (unanswered last),
        // then earliest start.
        var groupOf: [Step: Int] = [:]
        let group = steps.map { step in
            if let g = groupOf[step] { return g }
            groupOf[step] = groupOf.count
            return groupOf.count - 1
        }
        var rank = [Int](repeating: 0, count: n)
        let byRank = ops.indices.sorted { a, b in
            let ea = ops[a].end ?? .seconds(Int64.max), eb = ops[b].end ?? .seconds(Int64.max)
            return (ea, ops[a].start, a) < (eb, ops[b].start, b)
        }
        for (r, o) in byRank.enumerated() { rank[o] = r }
        var bestRank = [Int](repeating: 0, count: groupOf.count)
        var bestStamp = [Int](repeating: -1, count: groupOf.count)
        var stamp = 0

        // The lowest version a not yet placed answered operation must see before it (a read's version, a
        // write's reported version - 1), kept in a min segment tree over the operations.
        var size = 1
        while size < n { size *= 2 }
        var versionNeed = [Int](repeating: .max, count: 2 * size)
        for i in 0..<n where known[i] && steps[i].wantVersion != .min {
            versionNeed[size + i] = steps[i].code == .read ? steps[i].wantVersion : steps[i].wantVersion - 1
        }
        for i in stride(from: size - 1, to: 0, by: -1) { versionNeed[i] = min(versionNeed[2 * i], versionNeed[2 * i + 1]) }
        let ownNeed = (0..<n).map { versionNeed[size + $0] }
        func setNeed(_ o: Int, _ value: Int) {
            var i = size + o
            versionNeed[i] = value
            i /= 2
            while i >= 1 { versionNeed[i] = min(versionNeed[2 * i], versionNeed[2 * i + 1]); i /= 2 }
        }

        var rng = SplitMix64(seed: 0x6A09_E667_F3BC_C908)
        let zobrist = (0..<n).map { _ in rng.next() }
        let words = (n + 63) / 64
        var bits = [UInt64](repeating: 0, count: words)
        var setHash: UInt64 = 0
        var memo = MemoTable(words: words)

        var state = initial
        var stackOps: [Int] = []
        var stackStates: [BookState] = []
        var stackForced: [Bool] = []
        var longest: [Int] = []
        var iterations = 0

        // Marks, among the pending calls (those before the first return entry), the best-ranked of each
        // group; returns a legal operation that changes nothing, if one is pending.
        func scanNode() -> Int? {
            stamp += 1
            var free: Int?
            var e = next[head]
            while e != -1 && e & 1 == 0 {
                let o = e >> 1
                if steps[o].changesNothing {
                    if free == nil, steps[o].apply(state) != nil { free = o }
                } else {
                    let g = group[o]
                    if bestStamp[g] != stamp || rank[o] < bestRank[g] { bestStamp[g] = stamp; bestRank[g] = rank[o] }
                }
                e = next[e]
            }
            return free
        }

        // Places o next (state becomes newState); false, with nothing changed, when the version bound
        // forbids it or that (set, state) pair was explored before.
        func tryLift(_ o: Int, to newState: BookState, forced: Bool) -> Bool {
            if ownNeed[o] != .max { setNeed(o, .max) }
            if newState.version > versionNeed[1] {
                if ownNeed[o] != .max { setNeed(o, ownNeed[o]) }
                return false
            }
            bits[o >> 6] |= 1 << UInt64(o & 63)
            let h = setHash ^ zobrist[o]
            guard memo.insert(bits, newState, hash: mix(h, newState)) else {
                bits[o >> 6] &= ~(1 << UInt64(o & 63))
                if ownNeed[o] != .max { setNeed(o, ownNeed[o]) }
                return false
            }
            setHash = h
            stackOps.append(o); stackStates.append(state); stackForced.append(forced)
            state = newState
            // Remove the call (and return) entries: dancing links, undone in reverse order.
            let call = 2 * o
            next[prev[call]] = next[call]
            if next[call] != -1 { prev[next[call]] = prev[call] }
            if known[o] {
                let ret = call + 1
                next[prev[ret]] = next[ret]
                if next[ret] != -1 { prev[next[ret]] = prev[ret] }
                remainingKnown -= 1
            }
            return true
        }

        var atNodeStart = true
        var entry = head
        while true {
            if remainingKnown == 0 { return .linearizable }
            if iterations & 1023 == 0 {
                if ContinuousClock.now > deadline {
                    return .outOfBudget("time budget exceeded after \(iterations) steps, \(memo.count) states, \(n) operations")
                }
                if memo.bytes > memoryLimit {
                    return .outOfBudget("memory limit exceeded: \(memo.count) states of \(n) operations")
                }
            }
            iterations += 1

            var mustBacktrack = false
            if atNodeStart {
                atNodeStart = false
                entry = next[head]
                if let o = scanNode() {
                    // A legal operation that changes nothing is placed now, with no alternatives.
                    if tryLift(o, to: state, forced: true) { atNodeStart = true; continue }
                    mustBacktrack = true
                }
            }

            if !mustBacktrack && entry != -1 && entry & 1 == 0 {
                let o = entry >> 1
                if !steps[o].changesNothing, rank[o] == bestRank[group[o]],
                   let newState = steps[o].apply(state), tryLift(o, to: newState, forced: false) {
                    atNodeStart = true
                } else {
                    entry = next[entry]
                }
                continue
            }

            // A return entry (or nothing) is next: the operation it ends cannot be placed here. Backtrack.
            if stackOps.count > longest.count { longest = stackOps }
            while true {
                guard let o = stackOps.popLast() else { return .notLinearizable(longest: longest) }
                state = stackStates.removeLast()
                let forced = stackForced.removeLast()
                bits[o >> 6] &= ~(1 << UInt64(o & 63))
                setHash ^= zobrist[o]
                if ownNeed[o] != .max { setNeed(o, ownNeed[o]) }
                let call = 2 * o
                if known[o] {
                    let ret = call + 1
                    next[prev[ret]] = ret
                    if next[ret] != -1 { prev[next[ret]] = ret }
                    remainingKnown += 1
                }
                next[prev[call]] = call
                if next[call] != -1 { prev[next[call]] = call }
                if !forced {
                    _ = scanNode()  // the parent's group marks, overwritten by its children
                    entry = next[call]
                    break
                }
            }
        }
    }

    // MARK: Report

    static func report(
        _ operations: [BookOperation], origin: ContinuousClock.Instant, initial: BookState, cutoff: Duration,
        prepared: [PreparedOp], longest: [Int], minimized: Bool
    ) -> LinearizabilityFailure {
        let t = origin + cutoff
        var steps: [(operation: BookOperation, after: BookState)] = []
        var state = initial
        for i in longest {
            state = prepared[i].step.apply(state) ?? state
            steps.append((operations[prepared[i].source], state))
        }
        // Answered operations left out of it: the one(s) answered at t first, then by end.
        let placed = Set(longest.map { prepared[$0].source })
        let unplaced = prepared.filter { $0.end != nil && !placed.contains($0.source) }
            .sorted { ($0.end! != cutoff ? 1 : 0, $0.end!, $0.source) < ($1.end! != cutoff ? 1 : 0, $1.end!, $1.source) }
            .prefix(8).map { operations[$0.source] }

        // The window: answers at t, then the operations spanning t (latest start first), then those that
        // ended just before t, up to 14 with answers; then the latest-started unanswered ones, 20 in all.
        let startedByT = operations.indices.filter { operations[$0].start <= t }
        let answered = startedByT.filter { operations[$0].hasKnownOutcome }
        let atT = answered.filter { operations[$0].end! == t }
        let spanning = answered.filter { operations[$0].end! > t }.sorted { operations[$0].start > operations[$1].start }
        let before = answered.filter { operations[$0].end! < t }.sorted { operations[$0].end! > operations[$1].end! }
        var chosen = Array((atT + spanning + before).prefix(max(14, atT.count)))
        let unanswered = startedByT.filter { !operations[$0].hasKnownOutcome }.sorted { operations[$0].start > operations[$1].start }
        let unknownSlots = max(0, 20 - chosen.count)
        chosen += unanswered.prefix(unknownSlots)
        chosen.sort { (operations[$0].start, $0) < (operations[$1].start, $1) }

        // Older unanswered operations left out are counted; they stay pending and may matter.
        let omitted = max(0, unanswered.count - unknownSlots)
        return LinearizabilityFailure(
            failingInstant: t, failingOffset: cutoff, windowMinimized: minimized, initial: initial,
            operationCount: operations.count,
            window: chosen.map { operations[$0] },
            windowLines: chosen.map { render(operations[$0], origin: origin, failing: t) },
            omittedUnknownCount: omitted,
            longestLinearization: steps, unplaced: Array(unplaced), origin: origin)
    }
}

// MARK: - Memo

/// Hash of a (linearized set, state) pair: the set's Zobrist hash mixed with the state.
@inline(__always) private func mix(_ setHash: UInt64, _ s: BookState) -> UInt64 {
    var x = setHash
    x ^= UInt64(bitPattern: Int64(s.quantity)) &* 0x9E37_79B9_7F4A_7C15
    x ^= UInt64(bitPattern: Int64(s.version)) &* 0xC2B2_AE3D_27D4_EB4F
    x ^= UInt64(bitPattern: Int64(s.priceCents)) &* 0x1656_67B1_9E37_79F9
    x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
    x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
    return x ^ (x >> 31)
}

/// Open-addressing set of (bitset, state) pairs stored flat in one array: no allocation per entry.
private struct MemoTable {
    let words: Int
    let stride: Int
    var arena: [UInt64] = []
    var hashes: [UInt64] = []
    var slots: [Int32] = Array(repeating: 0, count: 1024)  // 0 = empty, else entry index + 1
    var count: Int { hashes.count }
    var bytes: Int { arena.count * 8 + hashes.count * 8 + slots.count * 4 }

    init(words: Int) {
        self.words = words
        stride = words + 3
    }

    /// Inserts the pair; false if it was already there.
    mutating func insert(_ bits: [UInt64], _ s: BookState, hash: UInt64) -> Bool {
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 {
            let e = Int(slots[i]) - 1
            if hashes[e] == hash && equals(e, bits, s) { return false }
            i = (i + 1) & mask
        }
        slots[i] = Int32(count + 1)
        hashes.append(hash)
        arena.append(contentsOf: bits)
        arena.append(UInt64(bitPattern: Int64(s.quantity)))
        arena.append(UInt64(bitPattern: Int64(s.version)))
        arena.append(UInt64(bitPattern: Int64(s.priceCents)))
        return true
    }

    private func equals(_ e: Int, _ bits: [UInt64], _ s: BookState) -> Bool {
        let base = e * stride
        guard arena[base + words] == UInt64(bitPattern: Int64(s.quantity)),
              arena[base + words + 1] == UInt64(bitPattern: Int64(s.version)),
              arena[base + words + 2] == UInt64(bitPattern: Int64(s.priceCents)) else { return false }
        for w in 0..<words where arena[base + w] != bits[w] { return false }
        return true
    }

    private mutating func grow() {
        var bigger = [Int32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        for (e, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while bigger[i] != 0 { i = (i + 1) & mask }
            bigger[i] = Int32(e + 1)
        }
        slots = bigger
    }
}
