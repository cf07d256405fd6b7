import BazarModels
import BazarService

/// Lets one write at a time through, in arrival order. A replica's writes must commit in log
/// order, and an actor alone does not give that: it interleaves callers at every `await`.
///
/// It also knows what holds it, since when, and how many wait: a replica that stops making
/// progress says on what in its `/replication/status`.
public actor WriteTurn {
    private var holder: (work: String, since: ContinuousClock.Instant)?
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Runs `body` once every earlier caller is done; `work` names it in the status.
    public func run<T: Sendable>(_ work: @autoclosure () -> String, _ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        holder = (work(), .now)
        defer { release() }
        return try await body()
    }

    /// What holds the turn now, for how long, and how many callers wait behind it.
    public func progress(at now: ContinuousClock.Instant = .now) -> ReplicaProgress? {
        guard let holder else { return nil }
        return ReplicaProgress(work: holder.work, heldMs: (now - holder.since).milliseconds, waiting: waiting.count)
    }

    private func acquire() async {
        guard holder != nil else {
            holder = ("", .now)
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            holder = nil
        } else {
            holder = ("", .now)
            waiting.removeFirst().resume()
        }
    }
}
