/// An amount of money, kept as integer cents so that no arithmetic ever rounds.
/// On the wire it is a JSON number with at most two decimals (`25.0`, `19.99`).
public struct Money: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var cents: Int

    public init(cents: Int) { self.cents = cents }

    /// Parses a wire amount; nil when it is negative, not finite, or has more than two decimals.
    public init?(decimal value: Double) {
        guard value.isFinite, value >= 0, value < 1e13 else { return nil }
        let scaled = (value * 100).rounded()
        guard abs(scaled - value * 100) < 1e-6 else { return nil }
        self.cents = Int(scaled)
    }

    public var decimal: Double { Double(cents) / 100 }
    public var description: String { "\(cents / 100).\((cents % 100).zeroPadded(2))" }
    public static func < (a: Money, b: Money) -> Bool { a.cents < b.cents }

    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(Double.self)
        guard let money = Money(decimal: value) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "an amount must be a non-negative number with at most two decimals"))
        }
        self = money
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(decimal)
    }
}
