import BazarCluster
import BazarModels
import BazarService
import BazarTestSupport
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
    /// The leader of a service cut off from its peers, both ways; the front end and the other
    /// service still reach it. (Needs a `NetworkLab`, as do the next two.)
    case isolateLeader(String)
    /// One way only: the leader's packets reach its peers, theirs (answers included) do not reach it.
    case cutPeersToLeader(String)
    /// A follower cut off from the other replicas of its service, and the front end reaching only
    /// that follower of the service: a 2 | 1 split with the front end on the minority side.
    case splitFrontWithMinority(String)
    /// Every cut of the network removed.
    case healNetwork

    /// Whether the fault needs each member in a network namespace of its own.
    public var needsNetwork: Bool {
        switch self {
        case .isolateLeader, .cutPeersToLeader, .splitFrontWithMinority, .healNetwork: true
        default: false
        }
    }

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
        case .isolateLeader(let service): "cut the \(service) leader off from its peers"
        case .cutPeersToLeader(let service): "drop what the \(service) followers send their leader"
        case .splitFrontWithMinority(let service): "split a \(service) follower and the front end from the other \(service) replicas"
        case .healNetwork: "heal the network"
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

/// A fault as injected: when it began, when its effect was complete (the injection returned; a
/// restarted process answered ready), and what it was.
struct InjectedFault: Sendable {
    let at: ContinuousClock.Instant
    let settled: ContinuousClock.Instant
    let what: String
}

/// Injects faults into a cluster and remembers what it did, so that restarts and resumes find
/// their targets.
actor FaultInjector {
    let cluster: LocalCluster
    let client: BackendClient
    let lab: NetworkLab?
    private var crashed: [String] = []
    private var paused: [String] = []
    private(set) var log: [InjectedFault] = []
    /// When the fault being injected began: its failover window opens then, not when the
    /// injection returns (a front end's restart takes a while, and requests in flight meanwhile fail).
    private var began = ContinuousClock.now

    init(cluster: LocalCluster, client: BackendClient, lab: NetworkLab?) {
        self.cluster = cluster
        self.client = client
        self.lab = lab
    }

    func inject(_ fault: Fault) async throws {
        began = .now
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
                try await restart(name)
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
            try await restart("front")
            note("restart front")
        case .isolateLeader(let service):
            let (lab, leader) = try await (network(), member(of: service, leading: true))
            try await lab.isolate(leader, from: replicas(of: service))
            note("cut \(leader) (\(service) leader) off from its peers")
        case .cutPeersToLeader(let service):
            let (lab, leader) = try await (network(), member(of: service, leading: true))
            for peer in replicas(of: service) where peer != leader { try await lab.cut(from: peer, to: leader) }
            note("drop packets from the other \(service) replicas to \(leader) (\(service) leader)")
        case .splitFrontWithMinority(let service):
            let (lab, minority) = try await (network(), member(of: service, leading: false))
            let majority = replicas(of: service).filter { $0 != minority }
            try await lab.isolate(minority, from: majority)
            for replica in majority { try await lab.partition("front", replica) }
            note("split \(minority) and front | \(majority.joined(separator: ", "))")
        case .healNetwork:
            try await network().heal()
            note("heal the network")
        }
    }

    private func network() throws -> NetworkLab {
        guard let lab else { throw LocalCluster.Failure(description: "a network fault needs the cluster in a network lab") }
        return lab
    }

    private func replicas(of service: String) -> [String] {
        cluster.layout.members.map(\.name).filter { $0.hasPrefix(service + "-") }
    }

    /// Resumes and restarts whatever is still paused or down.
    func heal() async throws {
        began = .now
        if lab != nil { try await inject(.healNetwork) }
        try await inject(.resumePaused)
        for name in crashed {
            try await restart(name)
            note("restart \(name)")
        }
        crashed.removeAll()
    }

    /// A restart is over when the process answers ready: how long that takes is measured, not
    /// assumed (a loaded machine starts a process slower), and the failover window follows it.
    private func restart(_ name: String) async throws {
        try await cluster.start(name)
        try await cluster.waitUntilReady([name], timeout: .seconds(60))
    }

    private func note(_ what: String) { log.append(InjectedFault(at: began, settled: .now, what: what)) }

    /// The current leader (or a follower) of a service, as the replicas themselves say.
    func member(of service: String, leading: Bool) async throws -> String {
        let names = cluster.layout.members.map(\.name).filter { $0.hasPrefix(service + "-") }
        // The newest term's: an old leader cut off from its peers may still say it leads.
        var leader: String?, leaderTerm: Int64 = -1
        for name in names {
            guard let reply = try? await client.send(.GET, cluster.layout.url(of: name) + "/replication/status", timeout: .seconds(1)),
                  let status = try? reply.decode(ReplicationStatus.self), status.role == .leader, status.term > leaderTerm else { continue }
            (leader, leaderTerm) = (name, status.term)
        }
        guard let leader else { throw LocalCluster.Failure(description: "no \(service) replica says it leads") }
        if leading { return leader }
        guard let follower = names.first(where: { $0 != leader }) else { throw LocalCluster.Failure(description: "no \(service) follower") }
        return follower
    }
}
