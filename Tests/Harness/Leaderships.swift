import BazarCluster
import Foundation

/// Who became leader in which term, as each replica's own log says ("became leader … term=N"):
/// the evidence for G7's "at most one leader in any term", which a run's final states cannot show
/// (a deposed leader's log is replaced at the heal).
public struct Leaderships: Sendable {
    /// Service (`catalog`, `order`) to term to the replicas that led in it.
    public var leaders: [String: [Int64: Set<String>]] = [:]

    public init(layout: ClusterLayout) {
        for member in layout.replicaMembers {
            guard let text = try? String(contentsOf: layout.logFile(of: member.name), encoding: .utf8) else { continue }
            record(log: text, of: member.name)
        }
    }

    public init(logs: [String: String]) {
        for (replica, text) in logs { record(log: text, of: replica) }
    }

    private mutating func record(log text: String, of replica: String) {
        let service = String(replica.prefix { $0 != "-" })
        for line in text.split(separator: "\n") where line.contains("msg=\"became leader\"") {
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("term=") }),
                  let term = Int64(field.dropFirst("term=".count)) else { continue }
            leaders[service, default: [:]][term, default: []].insert(replica)
        }
    }

    /// One line per term in which two replicas of one of `services` led.
    public func violations(of services: Set<String>) -> [String] {
        leaders.filter { services.contains($0.key) }.sorted { $0.key < $1.key }.flatMap { service, terms in
            terms.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }.map { term, replicas in
                "G7: \(replicas.sorted().joined(separator: " and ")) both led \(service) in term \(term)"
            }
        }
    }
}
