import BazarModels

/// A catalog write as it is replicated: the book after the write (a post-image, so applying it
/// twice is harmless) and, for a purchase, the receipt that its request id must answer forever.
struct BookChange: Codable, Sendable {
    var book: Book
    var receipt: PurchaseReceipt?
}
