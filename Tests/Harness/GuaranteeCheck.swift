import BazarModels
import Foundation

/// What a scenario's checks found.
public struct ScenarioReport: Sendable, CustomStringConvertible {
    public var scenario: String
    /// Each broken guarantee, one line each, naming G1–G8.
    public var violations: [String]
    public var requests: Int
    public var errors: Int
    public var errorsOutsideFailover: Int
    public var requestsOutsideFailover: Int
    /// The first errors outside the failover windows: when (seconds from the first request), what, and the answer.
    public var errorsOutsideFailoverSample: [String] = []
    public var purchasesAcknowledged: Int
    public var outOfStock: Int
    public var convergedAfter: Duration?
    /// Service to its leaders, term by term, as their logs say.
    public var leaders: [String: [Int64: Set<String>]] = [:]
    /// The longest time without an acknowledged purchase while the clients ran: how long the
    /// worst fault stopped the store.
    public var longestWriteGap: Duration = .zero

    public var errorRate: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }
    public var errorRateOutsideFailover: Double {
        requestsOutsideFailover == 0 ? 0 : Double(errorsOutsideFailover) / Double(requestsOutsideFailover)
    }

    public var description: String {
        let converged = convergedAfter.map { String(format: "%.2f s", $0.seconds) } ?? "never"
        return "\(scenario): \(requests) requests, \(purchasesAcknowledged) purchases acknowledged, \(outOfStock) out of stock, "
            + String(format: "errors %.2f%% overall, %.2f%% outside failover windows", errorRate * 100, errorRateOutsideFailover * 100)
            + ", replicas equal after \(converged)"
            + String(format: ", longest stretch without an acknowledged purchase %.2f s", longestWriteGap.seconds)
            + leaders.sorted { $0.key < $1.key }.map { service, terms in
                ", \(service) leaders " + terms.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.sorted().joined(separator: "+"))" }.joined(separator: ", ")
            }.joined()
            + (violations.isEmpty ? "; G1-G8 hold" : "; VIOLATIONS:\n  " + violations.joined(separator: "\n  "))
    }
}

/// Checks G1–G8 against a run's history, the replicas' final states and their logs.
struct GuaranteeCheck {
    let history: History
    let finals: FinalStates
    let initialStock: Int
    let initialStates: [Int: BookState]
    let faults: [InjectedFault]
    let leaderships: Leaderships
    /// A service whose leader the faults must replace (the majority side elects a new one).
    let takeover: String?
    /// How long after a fault's effect is complete a client may still see errors (detection,
    /// election, catch-up, rotation); the window opens when the fault begins.
    let failoverWindow = Duration.seconds(5)
    static let restockCount = 3

    /// The longest stretch of the run, from its start, with none of `moments`.
    func longestGap(between moments: [ContinuousClock.Instant]) -> Duration {
        var previous = history.began, longest = Duration.zero
        for moment in moments.sorted() {
            longest = max(longest, moment - previous)
            previous = moment
        }
        return longest
    }

    func report(scenario: String) -> ScenarioReport {
        let events = history.events
        var violations: [String] = []
        let frontEvents = events.filter { $0.operation != .directRead }

        // G4: convergence.
        if finals.convergedAfter == nil {
            violations.append("G4: replicas still differ 2 s after writes stopped")
        }
        guard let books = finals.catalogs.values.first, let orders = finals.orders.values.first else {
            return ScenarioReport(scenario: scenario, violations: ["no final state"], requests: 0, errors: 0, errorsOutsideFailover: 0,
                                  requestsOutsideFailover: 0, purchasesAcknowledged: 0, outOfStock: 0)
        }

        // G1: never below zero, and never more sold than was made available.
        for (replica, state) in finals.catalogs {
            for book in state where book.quantity < 0 { violations.append("G1: book \(book.id) at \(book.quantity) on \(replica)") }
        }
        for event in events where (event.quantity ?? 0) < 0 {
            violations.append("G1: a read showed book \(event.book) at \(event.quantity!)")
        }
        for book in books {
            let restocks = events.filter { $0.operation == .restock && $0.book == book.id }
            let acknowledged = restocks.filter(\.succeeded).count
            let sold = orders.filter { $0.bookID == book.id }.count
            let lowest = initialStock + Self.restockCount * acknowledged - sold
            let highest = initialStock + Self.restockCount * restocks.count - sold
            if book.quantity < lowest || book.quantity > highest {
                violations.append("G1/G2: book \(book.id) ends at \(book.quantity) with \(sold) orders; stock made available allows \(lowest)...\(highest)")
            }
        }

        // G2: every acknowledged order is on every order replica.
        let acknowledgedOrders = Set(events.compactMap { $0.succeeded && $0.operation == .purchase ? $0.orderID : nil })
        for (replica, state) in finals.orders {
            let missing = acknowledgedOrders.subtracting(state.map(\.orderID))
            if !missing.isEmpty { violations.append("G2: \(missing.count) acknowledged orders missing on \(replica)") }
        }

        // G5: one order per Idempotency-Key, whatever the retries.
        var orderOfKey: [String: Set<String>] = [:]
        for event in events where event.operation == .purchase && event.succeeded {
            if let key = event.idempotencyKey, let order = event.orderID { orderOfKey[key, default: []].insert(order) }
        }
        for (key, ids) in orderOfKey where ids.count > 1 { violations.append("G5: key \(key) answered \(ids.count) different orders") }
        let keys = Set(events.compactMap(\.idempotencyKey))
        if orders.count > keys.count { violations.append("G5: \(orders.count) orders from \(keys.count) purchase keys") }

        // G3 and G6: a read served after a write was acknowledged shows it or something newer,
        // through the front end and from any replica directly.
        let writes = events.filter { ($0.operation == .purchase || $0.operation == .restock) && $0.succeeded && $0.version != nil }
        var stale = 0
        var example: String?
        for read in events where (read.operation == .info || read.operation == .directRead) && read.succeeded {
            guard let version = read.version else { continue }
            let newest = writes.filter { $0.book == read.book && $0.end < read.start }.compactMap(\.version).max() ?? 0
            if version < newest {
                stale += 1
                let at = String(format: "%.2f s", (read.start - history.began).seconds)
                example = example ?? "book \(read.book) read at version \(version) \(read.operation == .info ? "through the front end from" : "directly from") \(read.replica ?? "?") at \(at) after version \(newest) was acknowledged"
            }
        }
        if stale > 0 { violations.append("G3/G6: \(stale) stale reads, e.g. \(example!)") }

        // G8: each book's purchases, restocks and reads through the front ends, all of them
        // together, can be put in one order that respects real time and the book's rules.
        let histories = BookHistories(events: events, restockCount: Self.restockCount).operations()
        for (book, operations) in histories.sorted(by: { $0.key < $1.key }) {
            guard let initial = initialStates[book] else { continue }
            switch LinearizabilityChecker.check(operations, initial: initial, budget: .seconds(20)) {
            case .linearizable: break
            case .notLinearizable(let failure): violations.append("G8: book \(book)'s history is not linearizable: \(failure)")
            case .unknown(let reason): violations.append("G8: book \(book)'s history could not be checked: \(reason)")
            }
        }

        // G7: at most one leader per term, for the services under the majority rules (three or
        // more replicas; a pair's two sides may each lead while cut apart, as documented).
        let majorityServices = ["catalog": finals.catalogs.count, "order": finals.orders.count].filter { $0.value >= 3 }.keys
        violations += leaderships.violations(of: Set(majorityServices))
        if let takeover, (leaderships.leaders[takeover]?.count ?? 0) < 2 {
            violations.append("G7: no \(takeover) replica took over from the leader the faults cut off")
        }

        // Errors the clients saw, inside and outside the windows that follow a fault. A request
        // still in flight when a fault begins is inside its window, as is one started after it.
        let errors = frontEvents.filter(\.isError)
        let outside = frontEvents.filter { event in
            !faults.contains { event.end >= $0.at && event.start < $0.settled + failoverWindow }
        }
        return ScenarioReport(
            scenario: scenario, violations: violations, requests: frontEvents.count, errors: errors.count,
            errorsOutsideFailover: outside.filter(\.isError).count, requestsOutsideFailover: outside.count,
            errorsOutsideFailoverSample: outside.filter(\.isError).prefix(10).map { event in
                let origin = frontEvents.map(\.start).min() ?? event.start
                return String(format: "%.3f–%.3f s ", (event.start - origin).seconds, (event.end - origin).seconds)
                    + "c\(event.client) \(event.operation) book \(event.book) → \(event.status.map(String.init) ?? "no answer")"
            },
            purchasesAcknowledged: acknowledgedOrders.count,
            outOfStock: events.filter { $0.operation == .purchase && $0.status == 409 }.count,
            convergedAfter: finals.convergedAfter, leaders: leaderships.leaders,
            longestWriteGap: longestGap(between: events.filter { $0.operation == .purchase && $0.succeeded }.map(\.end)))
    }
}
