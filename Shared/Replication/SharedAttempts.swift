/// One attempt at a time per request id; a repeat that arrives while it runs shares its answer.
///
/// Callers give up on a slow write and try again (the front end after its per-attempt timeout, on
/// another replica that forwards to the same leader). Running each repeat beside, or after, the
/// first multiplies the work in exactly the moments there is too much of it already: under load
/// that turns slow answers into none. A repeat that joins the attempt under way costs nothing.
actor SharedAttempts {
    private struct Key: Hashable {
        var requestID: String
        /// The answer's type: two kinds of write with the same id never share an attempt.
        var answer: ObjectIdentifier
    }

    private var underWay: [Key: Task<any Sendable, any Error>] = [:]

    /// The answer of the attempt under way for `requestID`, or of `attempt`, run now. The attempt
    /// runs in a task of its own: a caller that stops waiting (its client went away) does not
    /// end it for the repeats waiting on it.
    func run<Answer: Sendable>(_ requestID: String, _ attempt: @escaping @Sendable () async throws -> Answer) async throws -> Answer {
        let key = Key(requestID: requestID, answer: ObjectIdentifier(Answer.self))
        if let running = underWay[key] {
            // The key names the type, so the answer is an `Answer`.
            return try await running.value as! Answer
        }
        let task = Task<any Sendable, any Error> { try await attempt() }
        underWay[key] = task
        defer { underWay[key] = nil }
        return try await task.value as! Answer
    }
}
