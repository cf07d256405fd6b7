import BazarModels

/// An order write as the followers apply it: the order. (Its request id travels in the log
/// entry, and the answer it gives forever is the replicator's to keep.)
public struct OrderRecorded: Codable, Sendable {
    public var order: Order
}
