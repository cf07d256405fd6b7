@testable import FrontService
import Testing

@Suite("Percent encoding")
struct PercentEncodingTests {
    @Test("a path segment or query value keeps only unreserved characters; the rest is escaped")
    func encoding() {
        #expect("distributed systems".percentEncodedComponent == "distributed%20systems")
        #expect("a&b=c+d?e#f/g".percentEncodedComponent == "a%26b%3Dc%2Bd%3Fe%23f%2Fg")
        #expect("AZaz09-._~".percentEncodedComponent == "AZaz09-._~")
        #expect("ü".percentEncodedComponent == "%C3%BC")
    }

    @Test("decoding undoes encoding and refuses malformed escapes or bytes that are not UTF-8")
    func decoding() {
        for text in ["distributed systems", "a&b=c+d?e#f/g", "ü 100%", ""] {
            #expect(text.percentEncodedComponent.percentDecoded == text)
        }
        #expect("graduate%20school".percentDecoded == "graduate school")
        #expect("%c3%bc".percentDecoded == "ü")
        #expect("100%".percentDecoded == nil)
        #expect("%zz".percentDecoded == nil)
        #expect("%FF".percentDecoded == nil)
    }
}
