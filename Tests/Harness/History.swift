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

        public var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
        /// A failure the client should not see: a 5xx or no answer.
        public var isError: Bool { status.map { $0 >= 500 } ?? true }
    }

    private let storage = Mutex<[Event]>([])
    public let began = ContinuousClock.now

    public init() {}

    public func record(_ event: Event) { storage.withLock { $0.append(event) } }
    public var events: [Event] { storage.withLock { $0 } }
}
