import BazarModels

/// Invalidations on their way to the front ends, in batches: while one batch is being delivered,
/// the books that change meanwhile wait for the next, which the first of their writers sends (as
/// group commit does with writes). A writer is answered once the batch with its book has been
/// delivered, so every write is still invalidated before it is acknowledged (G3), with one
/// exchange per front end for many writes instead of one each.
actor InvalidationBatches {
    enum Turn: Sendable {
        /// Deliver these books (the latest version of each), then call `delivered()`. `since` is
        /// when the first of their writers asked: a front end that cannot be told is given up on
        /// a lease after that, so no writer waits longer than it would alone.
        case send([Book], since: ContinuousClock.Instant)
        /// Another writer delivered this book.
        case delivered
    }

    private var sending = false
    private var waiting: [(book: Book, since: ContinuousClock.Instant, writer: CheckedContinuation<Turn, Never>)] = []
    /// The writers whose books the current sender carries: answered when it has delivered them.
    private var carried: [CheckedContinuation<Turn, Never>] = []
    /// New subscribers waiting for the batch that went out without them.
    private var settling: [CheckedContinuation<Void, Never>] = []

    /// Either this writer sends (its book, with any others), or it waits until another has.
    func join(_ book: Book) async -> Turn {
        let now = ContinuousClock.now
        guard sending else {
            sending = true
            return .send([book], since: now)
        }
        return await withCheckedContinuation { waiting.append((book, now, $0)) }
    }

    /// Returns once the batch on its way now, if any, has been delivered: a front end that
    /// subscribes meanwhile was not among its receivers, so it is granted nothing before then.
    func settled() async {
        guard sending else { return }
        await withCheckedContinuation { settling.append($0) }
    }

    /// The current batch is delivered: its writers are answered, and the books that changed
    /// meanwhile go out with the first of their writers.
    func delivered() {
        for writer in carried { writer.resume(returning: .delivered) }
        carried = []
        for subscriber in settling { subscriber.resume() }
        settling = []
        guard let next = waiting.first else {
            sending = false
            return
        }
        let books = Self.latest(waiting.map(\.book))
        carried = waiting.dropFirst().map(\.writer)
        waiting = []
        next.writer.resume(returning: .send(books, since: next.since))
    }

    /// One notice per book: its newest version.
    static func latest(_ books: [Book]) -> [Book] {
        var newest: [Int: Book] = [:]
        for book in books where book.version >= newest[book.id]?.version ?? .min { newest[book.id] = book }
        return newest.values.sorted { $0.id < $1.id }
    }
}
