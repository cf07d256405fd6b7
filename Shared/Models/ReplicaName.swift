/// A replica's name, `<service>-<number>` (`catalog-1`, `order-2`; from 0, as Kubernetes numbers a
/// StatefulSet's pods). The number orders replicas: the lowest-numbered live replica is the one
/// that leads.
public struct ReplicaName: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var service: String
    public var number: Int

    public init(service: String, number: Int) {
        self.service = service
        self.number = number
    }

    public init?(_ text: String) {
        guard let dash = text.lastIndex(of: "-"), let number = Int(text[text.index(after: dash)...]),
              number >= 0, dash > text.startIndex else { return nil }
        self.service = String(text[..<dash])
        self.number = number
    }

    public var description: String { "\(service)-\(number)" }

    public static func < (a: ReplicaName, b: ReplicaName) -> Bool {
        (a.service, a.number) < (b.service, b.number)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let name = ReplicaName(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a replica name: \(text)"))
        }
        self = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
