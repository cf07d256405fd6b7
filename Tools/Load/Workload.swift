import Foundation

/// The kinds of request a workload sends through the front end.
public enum RequestKind: String, Codable, Sendable, CaseIterable, Comparable {
    case info, search, purchase, restock

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One request of a workload.
public struct WorkloadRequest: Sendable, Equatable {
    public var kind: RequestKind
    /// The book of an info, purchase or restock request.
    public var book: Int
    /// The topic of a search.
    public var topic: String
    /// Copies added by a restock.
    public var count: Int

    public var method: String { kind == .info || kind == .search ? "GET" : "POST" }

    public var path: String {
        switch kind {
        case .info: "/info/\(book)"
        case .search: "/search/" + (topic.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? topic)
        case .purchase: "/purchase/\(book)"
        case .restock: "/books/\(book)/restock"
        }
    }

    public var body: String? { kind == .restock ? #"{"count": \#(count)}"# : nil }
}

/// A workload generated from a seed: request `i` depends only on the seed and `i`, so the same seed
/// gives the same request list however many clients share it and in whatever order they take it.
/// Books are picked by popularity (a Zipf law: book k is chosen in proportion to 1 / k^s).
public struct Workload: Sendable {
    public var seed: UInt64
    /// Weights of the request kinds.
    public var mix: [RequestKind: Int]
    public var books: ClosedRange<Int>
    /// The Zipf exponent: 0 picks every book alike, 1 and more favour the first ones strongly.
    public var zipfExponent: Double
    public var topics: [String]
    /// Copies each restock adds.
    public var restockCount: Int

    private let popularity: Zipf
    private let totalWeight: Int
    private let kinds: [(kind: RequestKind, weight: Int)]

    public init(
        seed: UInt64, mix: [RequestKind: Int], books: ClosedRange<Int>, zipfExponent: Double,
        topics: [String] = ["distributed systems", "undergraduate school"], restockCount: Int = Self.restockCount
    ) throws {
        guard mix.values.allSatisfy({ $0 >= 0 }), mix.values.reduce(0, +) > 0 else { throw LoadError("the mix has no positive weight") }
        guard zipfExponent >= 0, zipfExponent.isFinite else { throw LoadError("the Zipf exponent must be 0 or more") }
        guard !topics.isEmpty, restockCount > 0 else { throw LoadError("a workload needs topics and a positive restock count") }
        self.seed = seed
        self.mix = mix
        self.books = books
        self.zipfExponent = zipfExponent
        self.topics = topics
        self.restockCount = restockCount
        popularity = Zipf(count: books.count, exponent: zipfExponent)
        kinds = RequestKind.allCases.compactMap { kind in mix[kind].flatMap { $0 > 0 ? (kind, $0) : nil } }
        totalWeight = kinds.map(\.weight).reduce(0, +)
    }

    /// Copies a restock adds by default.
    public static let restockCount = 100

    /// The weights for a purchase share (0 to 100 %) of the requests, the rest reads (`searchShare`
    /// of them searches), and restocks enough to add twice the copies the purchases take, per book
    /// as well as overall (restocks pick books by the same popularity), so stock never runs out.
    public static func mix(purchasePercent: Double, searchPercentOfReads: Double = 10) throws -> [RequestKind: Int] {
        guard (0...100).contains(purchasePercent), (0...100).contains(searchPercentOfReads) else {
            throw LoadError("shares are percentages from 0 to 100")
        }
        // In hundredths of a percent, so that 0.5 % stays exact.
        let purchase = Int((purchasePercent * 100).rounded())
        let reads = 10_000 - purchase
        let search = Int((Double(reads) * searchPercentOfReads / 100).rounded())
        let restock = purchase == 0 ? 0 : max(1, purchase * 2 / restockCount)
        return [.info: reads - search, .search: search, .purchase: purchase, .restock: restock]
    }

    /// Parses `info=90,search=9,purchase=1` (weights of the kinds).
    public static func parseMix(_ text: String) throws -> [RequestKind: Int] {
        var mix: [RequestKind: Int] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let kind = RequestKind(rawValue: parts[0]), let weight = Int(parts[1]), weight >= 0 else {
                throw LoadError("mix item '\(item)' is not kind=weight with kind one of \(RequestKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            mix[kind, default: 0] += weight
        }
        guard mix.values.reduce(0, +) > 0 else { throw LoadError("the mix '\(text)' has no weight") }
        return mix
    }

    /// Request number `index` of this workload.
    public func request(_ index: Int) -> WorkloadRequest {
        var random = SplitMix64(seed: seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
        var roll = Int(random.next() % UInt64(totalWeight))
        var kind = kinds[0].kind
        for entry in kinds {
            if roll < entry.weight {
                kind = entry.kind
                break
            }
            roll -= entry.weight
        }
        let book = books.lowerBound + popularity.sample(random.nextUnit())
        let topic = topics[Int(random.next() % UInt64(topics.count))]
        return WorkloadRequest(kind: kind, book: book, topic: topic, count: restockCount)
    }

    /// The first `count` requests as CSV (index, kind, method, path, body), for other load tools.
    public func csv(count: Int) -> String {
        var lines = ["index,kind,method,path,body"]
        lines.reserveCapacity(count + 1)
        for index in 0..<count {
            let request = request(index)
            let body = request.body.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" } ?? ""
            lines.append("\(index),\(request.kind.rawValue),\(request.method),\(request.path),\(body)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Draws 0 ..< count with probability proportional to 1 / (k + 1)^exponent, by inverting the
/// cumulative distribution (a binary search over it).
public struct Zipf: Sendable {
    public let cumulative: [Double]

    public init(count: Int, exponent: Double) {
        var total = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(count)
        for k in 1...max(1, count) {
            total += 1 / pow(Double(k), exponent)
            cumulative.append(total)
        }
        self.cumulative = cumulative.map { $0 / total }
    }

    /// The probability of `k`.
    public func probability(_ k: Int) -> Double {
        cumulative[k] - (k == 0 ? 0 : cumulative[k - 1])
    }

    /// The value for a uniform draw `unit` in [0, 1).
    public func sample(_ unit: Double) -> Int {
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > unit { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// Steele, Lea and Flood's SplitMix64: small, fast, and the same numbers on every platform (Swift's
/// own generator is neither seedable nor stable across versions).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1) with 53 bits of precision.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
