import BazarModels

/// A catalog write as it is replicated: the book after the write (a post-image, so applying it
/// twice is harmless) and the answer its request id must give forever (a purchase's receipt, a
/// refusal for lack of stock, a restock's record).
struct BookChange: Codable, Sendable {
    var book: Book
    var result: String?
}

/// What a purchase request id answers once it was refused: a replay that arrives late (from a
/// paused replica's socket) must not take a copy after the client was told there was none.
struct PurchaseRefusal: Codable, Sendable {
    var outOfStock: Bool
    enum CodingKeys: String, CodingKey { case outOfStock = "out_of_stock" }
}
