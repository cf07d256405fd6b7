import BazarCluster
import BazarModels
import BazarService
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One fault, injected into a real process at a moment of a scenario.
public enum Fault: Sendable, CustomStringConvertible {
    /// `kill -9` of the current leader of a service (`catalog` or `order`).
    case crashLeader(String)
    /// `kill -9` of the current follower of a service.
    case crashFollower(String)
    /// `kill -9` of a named member.
    case crash(String)
    /// Starts again whatever this scenario crashed of a service (or a named member) and is down.
    case restart(String)
    /// SIGSTOP of the current leader or follower of a service.
    case pauseLeader(String)
    case pauseFollower(String)
    /// SIGCONT of whatever this scenario paused.
    case resumePaused
    /// SIGTERM and start again of the front end (its cache starts empty).
    case restartFrontEnd

    public var description: String {
        switch self {
        case .crashLeader(let service): "kill -9 the \(service) leader"
        case .crashFollower(let service): "kill -9 the \(service) follower"
        case .crash(let name): "kill -9 \(name)"
        case .restart(let name): "restart \(name)"
        case .pauseLeader(let service): "SIGSTOP the \(service) leader"
        case .pauseFollower(let service): "SIGSTOP the \(service) follower"
        case .resumePaused: "SIGCONT"
        case .restartFrontEnd: "restart the front end"
        }
    }
}

/// A fault at a moment of the run.
public struct TimedFault: Sendable {
    public var at: Duration
    public var fault: Fault
    public init(at: Duration, _ fault: Fault) {
        self.at = at
        self.fault = fault
    }
}

/// Injects faults into a cluster and remembers what it did, so that restarts and resumes find
/// their targets.
actor FaultInjector {
    let cluster: LocalCluster
    let client: BackendClient
    private var crashed: [String] = []
    private var paused: [String] = []
    private(set) var log: [(at: ContinuousClock.Instant, what: String)] = []

    init(cluster: LocalCluster, client: BackendClient) {
        self.cluster = cluster
        self.client = client
    }

    func inject(_ fault: Fault) async throws {
        switch fault {
        case .crashLeader(let service):
            let name = try await member(of: service, leading: true)
            await cluster.crash(name)
            crashed.append(name)
            note("kill -9 \(name) (\(service) leader)")
        case .crashFollower(let service):
            let name = try await member(of: service, leading: false)
            await cluster.crash(name)
            crashed.append(name)
            note("kill -9 \(name) (\(service) follower)")
        case .crash(let name):
            await cluster.crash(name)
            crashed.append(name)
            note("kill -9 \(name)")
        case .restart(let target):
            for name in crashed where name == target || name.hasPrefix(target + "-") {
                try await cluster.start(name)
                note("restart \(name)")
            }
            crashed.removeAll { $0 == target || $0.hasPrefix(target + "-") }
        case .pauseLeader(let service):
            let name = try await member(of: service, leading: true)
            await cluster.pause(name)
            paused.append(name)
            note("SIGSTOP \(name) (\(service) leader)")
        case .pauseFollower(let service):
            let name = try await member(of: service, leading: false)
            await cluster.pause(name)
            paused.append(name)
            note("SIGSTOP \(name) (\(service) follower)")
        case .resumePaused:
            for name in paused {
                await cluster.resume(name)
                note("SIGCONT \(name)")
            }
            paused.removeAll()
        case .restartFrontEnd:
            await cluster.stop("front")
            try await cluster.start("front")
            note("restart front")
        }
    }

    /// Resumes and restarts whatever is still paused or down.
    func heal() async throws {
        try await inject(.resumePaused)
        for name in crashed {
            try await cluster.start(name)
            note("restart \(name)")
        }
        crashed.removeAll()
    }

    private func note(_ what: String) { log.append((.now, what)) }

    /// The current leader (or a follower) of a service, as the replicas themselves say.
    func member(of service: String, leading: Bool) async throws -> String {
        let names = cluster.layout.members.map(\.name).filter { $0.hasPrefix(service + "-") }
        var leader: String?
        for name in names {
            guard let reply = try? await client.send(.GET, cluster.layout.url(of: name) + "/replication/status", timeout: .seconds(1)),
                  let status = try? reply.decode(ReplicationStatus.self), status.role == .leader else { continue }
            leader = name
        }
        guard let leader else { throw LocalCluster.Failure(description: "no \(service) replica says it leads") }
        if leading { return leader }
        guard let follower = names.first(where: { $0 != leader }) else { throw LocalCluster.Failure(description: "no \(service) follower") }
        return follower
    }
}
