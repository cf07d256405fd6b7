import Synchronization

/// The highest log entry known to be held by every in-sync follower (the commit index). The leader
/// moves it when a write is acknowledged and tells the followers with each push; a follower (three
/// or more replicas) answers a read only once it covers everything the read may show, so that no
/// follower shows a write another follower may not have yet (G8). Only grows: what it covers is
/// committed, and committed entries are in every later leader's log.
public final class CommitPoint: Sendable {
    private let value = Mutex<Int64>(0)

    public init() {}

    public var seq: Int64 { value.withLock { $0 } }

    public func advance(to seq: Int64) {
        value.withLock { $0 = max($0, seq) }
    }
}
