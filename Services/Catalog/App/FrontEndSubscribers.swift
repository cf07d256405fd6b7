/// The front ends that asked this leader for its changes, each for a lease from its last renewal.
///
/// A subscription belongs to one term: a new leader (or this one in a newer term) starts from an
/// empty table, and every front end's first grant in a term carries a new number, which makes it
/// empty its cache. A subscription the leader gave up delivering to is cut: the front end's next
/// renewal starts a new one (and empties its cache), while the writer waits out the old one.
actor FrontEndSubscribers {
    struct Subscriber: Sendable, Equatable {
        var url: String
        var number: Int64
        var term: Int64
        /// A lease after the front end sent its last renewal: it stops serving from its cache then.
        var expiry: ContinuousClock.Instant
        /// Granted: the invalidations on their way when it subscribed have been delivered.
        var admitted = false
    }

    private var table: [String: Subscriber] = [:]
    private var lastNumber: Int64 = 0

    /// A renewal from the front end at `url` sent at `sentAt`, in `term`. A subscription of an
    /// older term, or one that lapsed (the front end may have missed changes since), is replaced
    /// by a new one, unadmitted.
    func renew(_ url: String, term: Int64, sentAt: ContinuousClock.Instant, lease: Duration,
               at now: ContinuousClock.Instant = .now) -> Subscriber {
        let expiry = sentAt + lease
        if var known = table[url], known.term == term, known.expiry > now {
            known.expiry = max(known.expiry, expiry)
            table[url] = known
            return known
        }
        lastNumber += 1
        let subscriber = Subscriber(url: url, number: lastNumber, term: term, expiry: expiry)
        table[url] = subscriber
        return subscriber
    }

    func admit(_ subscriber: Subscriber) {
        if current(subscriber) != nil { table[subscriber.url]?.admitted = true }
    }

    /// The subscriptions that have not lapsed, whatever their term (a leader that stepped down
    /// still tells the front ends it granted); the rest are forgotten.
    func live(at now: ContinuousClock.Instant = .now) -> [Subscriber] {
        table = table.filter { $0.value.expiry > now }
        return table.values.sorted { $0.url < $1.url }
    }

    /// The subscription as it stands now (its expiry moves on with every renewal), if it still runs.
    func current(_ subscriber: Subscriber) -> Subscriber? {
        table[subscriber.url].flatMap { $0.number == subscriber.number ? $0 : nil }
    }

    /// Ends `subscriber`'s subscription: returns when the front end stops serving from its cache
    /// (nil: it has already), and its next renewal starts a new one.
    func cut(_ subscriber: Subscriber) -> ContinuousClock.Instant? {
        guard let known = current(subscriber) else { return nil }
        table[subscriber.url] = nil
        return known.expiry
    }
}
