import BazarModels

/// Each book's history as its clients saw it through the front end, in the form the
/// linearizability checker takes (G8): answered reads, purchases (the attempts that share an
/// Idempotency-Key merged into one operation), and restocks.
struct BookHistories {
    let events: [History.Event]
    let restockCount: Int

    func operations() -> [Int: [BookOperation]] {
        var byBook: [Int: [BookOperation]] = [:]
        for event in events where event.operation == .info {
            guard event.status == 200, let quantity = event.quantity, let version = event.version else { continue }
            byBook[event.book, default: []].append(BookOperation(
                .read(quantity: quantity, version: version), start: event.start, end: event.end,
                label: "c\(event.client) \(event.replica ?? "")"))
        }
        for event in events where event.operation == .restock {
            let answered = event.succeeded && event.quantity != nil && event.version != nil
            byBook[event.book, default: []].append(BookOperation(
                .restock(count: restockCount, result: answered ? (event.quantity!, event.version!) : nil),
                start: event.start, end: answered ? event.end : nil, label: "c\(event.client) restock status \(event.status.map(String.init) ?? "none")"))
        }
        let attempts = Dictionary(grouping: events.filter { $0.operation == .purchase }) { $0.idempotencyKey ?? "\($0.client)@\($0.start)" }
        for (key, tries) in attempts {
            let tries = tries.sorted { $0.start < $1.start }
            let first = tries[0]
            // The attempt that got a definite answer: the purchase took effect before it ended.
            let answer = tries.first { $0.status == 200 || $0.status == 409 }
            let kind: BookOperation.PurchaseAnswer = switch answer?.status {
            case 200: .sold(version: answer?.version)
            case 409: .outOfStock
            default: .unknown
            }
            byBook[first.book, default: []].append(BookOperation(
                .purchase(kind), start: first.start, end: answer?.end,
                label: "c\(first.client) \(key) (\(tries.count) attempt\(tries.count == 1 ? "" : "s"))"))
        }
        return byBook
    }
}
