import Hummingbird

/// The bounds of what a query may ask, checked where a request enters (the front end) and again
/// where it is answered (a replica, reachable by anyone on its network).
public enum QueryRules {
    /// `?limit=N` of `GET /orders`.
    public static let orderLimits = 1...100_000
    public static let defaultOrderLimit = 20
    /// Topics are short phrases; a longer one is a mistake or an attack, never a topic.
    public static let maxTopicLength = 200

    /// `?limit=N`: within `orderLimits`, `defaultOrderLimit` when absent.
    public static func orderLimit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return defaultOrderLimit }
        guard let limit = Int(text), orderLimits.contains(limit) else {
            throw APIError(.invalidParameter, "limit must be a whole number from \(orderLimits.lowerBound) to \(orderLimits.upperBound).")
        }
        return limit
    }

    /// A topic to search for, refused when longer than `maxTopicLength` characters (Unicode scalars, as JSON Schema counts them).
    public static func topic(_ text: String) throws -> String {
        guard text.unicodeScalars.count <= maxTopicLength else {
            throw APIError(.invalidParameter, "A topic has at most \(maxTopicLength) characters.")
        }
        return text
    }
}
