import BazarModels
import BazarService
import SQLKit

/// A replicated service's store as the replication layer sees it: a plain repository that applies
/// typed operations and exports or replaces its whole state, inside the replicator's transaction.
/// It holds no replication code: the replicator keeps the log, each request id's answer and the
/// snapshots, and encodes whatever travels or is stored.
public protocol ReplicatedStore: Sendable {
    /// A write as the followers apply it. A post-image, so that applying it twice is harmless.
    associatedtype Operation: Codable & Sendable
    /// The whole state, as a snapshot carries it to a follower whose log took another path.
    associatedtype State: Codable & Sendable

    func apply(_ operation: Operation, in db: any SQLDatabase) async throws
    func export(in db: any SQLDatabase) async throws -> State
    func replace(with state: State, in db: any SQLDatabase) async throws
}

/// What a write did, as its store reports it: the caller's answer and, when the write changed the
/// state or must answer the same on every replica (a refusal for lack of stock), the operation
/// the followers apply. A write without an operation leaves no entry and no stored answer.
public struct Written<Answer: Codable & Sendable, Operation: Codable & Sendable>: Sendable {
    public var answer: Answer
    public var operation: Operation?

    public init(_ answer: Answer, operation: Operation?) {
        self.answer = answer
        self.operation = operation
    }
}

/// A committed write as its caller gets it: the answer, and the operation when this attempt made
/// one (nil for a repeat that got an earlier attempt's stored answer).
public struct Committed<Answer: Sendable, Operation: Sendable>: Sendable {
    public var answer: Answer
    public var operation: Operation?
    /// Whether the answer is one stored by an earlier attempt of the same request id.
    public var isRepeat: Bool
}

/// A log entry's effect as the replication layer writes it: the store's operation, and the answer
/// its request id gives forever (JSON), which every replica stores when it applies the entry. One
/// flat object: the operation's own fields and `result`.
struct LoggedWrite<Operation: Codable & Sendable>: Codable, Sendable {
    var operation: Operation
    var result: String?

    enum CodingKeys: String, CodingKey { case result }

    init(operation: Operation, result: String?) {
        self.operation = operation
        self.result = result
    }

    init(from decoder: any Decoder) throws {
        operation = try Operation(from: decoder)
        result = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .result)
    }

    func encode(to encoder: any Encoder) throws {
        try operation.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(result, forKey: .result)
    }
}

/// A store with its types erased, as the replicator keeps it: what it applies, exports and
/// replaces, in the encodings the log and the snapshots carry.
struct ReplicatedState: Sendable {
    let apply: @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void
    let export: @Sendable (any SQLDatabase) async throws -> String
    let replace: @Sendable (String, any SQLDatabase) async throws -> Void

    init<Store: ReplicatedStore>(_ store: Store) {
        apply = { entry, db in
            let write = try JSONResponse.decode(LoggedWrite<Store.Operation>.self, from: entry.effect)
            try await store.apply(write.operation, in: db)
            if let result = write.result, let requestID = entry.requestID {
                try await ReplicationLog.recordResult(result, for: requestID, in: db)
            }
        }
        export = { db in try JSONResponse.encodeString(try await store.export(in: db)) }
        replace = { state, db in try await store.replace(with: try JSONResponse.decode(Store.State.self, from: state), in: db) }
    }
}
