import BazarModels
import BazarService
import SQLKit

/// What the replication layer needs from a service's store: how to apply a leader's entry, and
/// how to export and import the whole state for a snapshot. Each runs inside the replicator's
/// transaction.
public struct ReplicatedState: Sendable {
    public var apply: @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void
    public var export: @Sendable (any SQLDatabase) async throws -> String
    public var replace: @Sendable (String, any SQLDatabase) async throws -> Void

    public init(
        apply: @escaping @Sendable (ReplicationEntry, any SQLDatabase) async throws -> Void,
        export: @escaping @Sendable (any SQLDatabase) async throws -> String,
        replace: @escaping @Sendable (String, any SQLDatabase) async throws -> Void
    ) {
        self.apply = apply
        self.export = export
        self.replace = replace
    }
}
