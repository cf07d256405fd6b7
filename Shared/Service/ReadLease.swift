import BazarModels

/// A follower's permission to serve reads: it holds while the follower is caught up with the
/// leader and within what the leader's last push granted, a lease at most from its send time and
/// never past the leader's own lease (`LeaderLease`). The leader waits a whole lease before it
/// stops waiting for a silent follower, and a new leader is elected only after the old one's
/// lease, so a cut-off follower stops serving before writes go on without it.
public struct ReadLease: Sendable {
    public let duration: Duration
    private var validUntil: ContinuousClock.Instant?
    private var caughtUp = false

    public init(duration: Duration) { self.duration = duration }

    /// A push from the leader started at `instant`, granting `granted` (what was left of the
    /// leader's own lease; the whole lease from a leader that does not say); `caughtUp` tells
    /// whether we now hold all it has.
    public mutating func renew(at instant: ContinuousClock.Instant, granted: Duration? = nil, caughtUp: Bool) {
        let until = instant + min(duration, max(.zero, granted ?? duration))
        if validUntil.map({ until > $0 }) ?? true { validUntil = until }
        self.caughtUp = caughtUp
    }

    public mutating func revoke() {
        caughtUp = false
        validUntil = nil
    }

    public func isValid(at now: ContinuousClock.Instant = .now) -> Bool {
        guard caughtUp, let validUntil else { return false }
        return now < validUntil
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
