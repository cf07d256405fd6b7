import BazarModels

/// A follower's permission to serve reads: it holds while the follower is caught up with the
/// leader and has heard from it within the lease. The leader waits a whole lease before it stops
/// waiting for a silent follower, so a cut-off follower stops serving before the leader writes
/// without it.
public struct ReadLease: Sendable {
    public let duration: Duration
    private var renewedAt: ContinuousClock.Instant?
    private var caughtUp = false

    public init(duration: Duration) { self.duration = duration }

    /// A push from the leader started at `instant`; `caughtUp` tells whether we now hold all it has.
    public mutating func renew(at instant: ContinuousClock.Instant, caughtUp: Bool) {
        if renewedAt.map({ instant > $0 }) ?? true { renewedAt = instant }
        self.caughtUp = caughtUp
    }

    public mutating func revoke() {
        caughtUp = false
        renewedAt = nil
    }

    public func isValid(at now: ContinuousClock.Instant = .now) -> Bool {
        guard caughtUp, let renewedAt else { return false }
        return now - renewedAt < duration
    }
}

extension ReadLease {
    /// The moment, on this process's clock, when a message stamped `sentAt` (ms since 1970) was
    /// sent. Leases count from there, so a message that waited in a paused process's socket
    /// renews nothing. (Clocks of the machines involved must agree to well within a lease.)
    public static func instant(sentAt: Int64) -> ContinuousClock.Instant {
        let age = max(0, ReplicationBatch.now() - sentAt)
        return ContinuousClock.now - .milliseconds(age)
    }
}
