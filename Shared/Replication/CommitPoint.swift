import Synchronization

/// The highest log entry known to be held by every in-sync follower (the commit index). The leader
/// moves it when a write is acknowledged and tells the followers with each push; a follower (three
/// or more replicas) answers a read only once it covers everything the read may show, so that no
/// follower shows a write another follower may not have yet (G8). Only grows: what it covers is
/// committed, and committed entries are in every later leader's log.
public final class CommitPoint: Sendable {
    /// A read waiting for the index: announced before it waits, so that a cancellation that
    /// comes first is not lost.
    private enum Waiter {
        case announced
        case waiting(seq: Int64, continuation: CheckedContinuation<Bool, Never>)
        case cancelled
    }

    private struct State {
        var seq: Int64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var seq: Int64 { state.withLock { $0.seq } }

    public func advance(to seq: Int64) {
        let ready = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard seq > state.seq else { return [] }
            state.seq = seq
            var ready: [CheckedContinuation<Bool, Never>] = []
            for (id, waiter) in state.waiters {
                if case .waiting(let wanted, let continuation) = waiter, wanted <= seq {
                    state.waiters[id] = nil
                    ready.append(continuation)
                }
            }
            return ready
        }
        for waiter in ready { waiter.resume(returning: true) }
    }

    /// Waits until the index covers `seq` (true), or until `timeout` has passed (false). The
    /// waiter is woken by the `advance` that covers it, not by polling.
    public func wait(until seq: Int64, timeout: Duration) async -> Bool {
        if self.seq >= seq { return true }
        return await withTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { await self.reach(seq) }
            tasks.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await tasks.next() ?? false
            tasks.cancelAll()
            return first
        }
    }

    /// True once the index covers `seq`; false when the waiting task is cancelled first.
    private func reach(_ seq: Int64) async -> Bool {
        let id = state.withLock { state in
            state.nextWaiter += 1
            state.waiters[state.nextWaiter] = .announced
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Bool? = state.withLock { state in
                    if case .cancelled = state.waiters[id] {
                        state.waiters[id] = nil
                        return false
                    }
                    if state.seq >= seq {
                        state.waiters[id] = nil
                        return true
                    }
                    state.waiters[id] = .waiting(seq: seq, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                switch state.waiters[id] {
                case .waiting(_, let continuation):
                    state.waiters[id] = nil
                    return continuation
                case .announced:
                    state.waiters[id] = .cancelled
                    return nil
                case .cancelled, nil:
                    return nil
                }
            }
            continuation?.resume(returning: false)
        }
    }
}
