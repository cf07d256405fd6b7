import BazarModels

/// An order write as it is replicated: the order, and the request id that must answer it forever.
struct OrderRecorded: Codable, Sendable {
    var order: Order
    var requestID: String
}
