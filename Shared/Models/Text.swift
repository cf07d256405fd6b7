/// Small text helpers written on the standard library alone: their Foundation counterparts
/// (`trimmingCharacters(in:)`, `String(format:)`) live in the ICU-backed half of Foundation, which
/// would put about 42 MB into the front end's binary, otherwise free of it (docs/containers.md).
extension StringProtocol {
    /// The text without leading and trailing whitespace (spaces, tabs, line breaks).
    public func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
              let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}

extension BinaryInteger {
    /// A non-negative number's digits in `radix`, left-padded with zeros to at least `width` digits.
    public func zeroPadded(_ width: Int, radix: Int = 10) -> String {
        let digits = String(self, radix: radix)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
