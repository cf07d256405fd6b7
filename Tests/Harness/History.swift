import Foundation
import Synchronization

/// Every request the workload made, with its answer, on one clock.
public final class History: Sendable {
    public enum Operation: String, Sendable { case info, search, purchase, restock, directRead }

    public struct Event: Sendable {
        public var client: Int
        public var operation: Operation
        public var book: Int
        public var start: ContinuousClock.Instant
        public var end: ContinuousClock.Instant
        /// HTTP status; nil when the request got no answer (connection error, timeout).
        public var status: Int?
        /// The book version the answer showed or the write produced, when it tells one.
        public var version: Int?
        public var quantity: Int?
        public var orderID: String?
        public var idempotencyKey: String?
        /// The replica a direct read went to.
        public var replica: String?
        /// The front end a read through the front ends went to.
        public var front: String? = nil

        public var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
        /// A failure the client should not see: a 5xx or no answer.
        public var isError: Bool { status.map { $0 >= 500 } ?? true }
    }

    private let storage = Mutex<[Event]>([])
    public let began = ContinuousClock.now

    public init() {}

    public func record(_ event: Event) { storage.withLock { $0.append(event) } }
    public var events: [Event] { storage.withLock { $0 } }

    /// One line per request (and per fault), for reading a failed run.
    func write(to url: URL, faults: [InjectedFault]) {
        func t(_ instant: ContinuousClock.Instant) -> String { String(format: "%8.3f", Double((instant - began).components.attoseconds) / 1e18 + Double((instant - began).components.seconds)) }
        var lines = faults.map { "\(t($0.at)) \(t($0.settled)) FAULT \($0.what)" }
        for e in events.sorted(by: { $0.start < $1.start }) {
            lines.append("\(t(e.start)) \(t(e.end)) c\(e.client) \(e.operation.rawValue) book=\(e.book) status=\(e.status.map(String.init) ?? "none") v=\(e.version.map(String.init) ?? "-") q=\(e.quantity.map(String.init) ?? "-") \(e.replica ?? "") \(e.idempotencyKey ?? "") \(e.orderID ?? "")")
        }
        try? lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    }
}
