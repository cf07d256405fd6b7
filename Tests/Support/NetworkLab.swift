import BazarCluster
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real network for a local Bazar: each member runs in a network namespace of its own, with its
/// own address on a bridge, and faults are packets dropped by iptables inside the namespaces, so
/// that a replica cannot tell them from a real network fault (connections hang; nothing is
/// refused). Needs root (`ip netns`); `destroy()` removes every namespace, link and rule.
///
///     let lab = try NetworkLab.create(members: layout.members.map(\.name))
///     lab.apply(to: &layout)            // members listen on their own addresses, in their namespaces
///     try lab.partition("catalog-1", "catalog-2")
///     try lab.heal()
public struct NetworkLab: Sendable {
    public let id: String
    /// Member name to its namespace and address.
    public let namespaces: [String: String]
    public let addresses: [String: String]
    let bridge: String
    /// This host's own address on the lab's bridge, and the lab's subnet: where a server the
    /// members share (a scratch PostgreSQL) listens.
    public let hostAddress: String
    public let subnet: String

    static let ip = "/usr/sbin/ip"
    static let iptables = "/usr/sbin/iptables"

    /// Whether this machine can build one: root, `ip` and `iptables`, and a namespace can be
    /// made (a container without the capability cannot).
    public static let isAvailable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: ip), FileManager.default.isExecutableFile(atPath: iptables) else {
            return false
        }
        let probe = "bazar-probe-\(getpid())"
        do {
            try Command.runBlocking([ip, "netns", "add", probe])
            defer { try? Command.runBlocking([ip, "netns", "delete", probe]) }
            try Command.runBlocking([ip, "netns", "exec", probe, iptables, "-L", "OUTPUT"])
            return true
        } catch {
            // The suites that need it are skipped: say why, or a lost capability goes unnoticed.
            FileHandle.standardError.write(Data("NetworkLab unavailable: \(error)\n".utf8))
            return false
        }
    }()

    /// A bridge on a /24 of its own, and a namespace joined to it for each member.
    public static func create(members: [String]) async throws -> NetworkLab {
        let number = Int.random(in: 0..<4096)
        let id = String(number, radix: 36)
        let subnet = "10.\(200 + number / 256 % 50).\(number % 256)"
        let bridge = "bzb\(id)"
        var namespaces: [String: String] = [:], addresses: [String: String] = [:]
        for (index, member) in members.enumerated() {
            namespaces[member] = "bazar-\(id)-\(member)"
            addresses[member] = "\(subnet).\(10 + index)"
        }
        let lab = NetworkLab(id: id, namespaces: namespaces, addresses: addresses, bridge: bridge,
                             hostAddress: "\(subnet).1", subnet: "\(subnet).0/24")
        do {
            try await Command.run([ip, "link", "add", "name", bridge, "type", "bridge"])
            try await Command.run([ip, "addr", "add", "\(lab.hostAddress)/24", "dev", bridge])
            try await Command.run([ip, "link", "set", bridge, "up"])
            // Where Docker has made bridged traffic pass the host's FORWARD chain (policy DROP),
            // this bridge's own traffic is let through.
            try? await Command.run([iptables, "-I", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"])
            for (index, member) in members.enumerated() {
                let namespace = namespaces[member]!, host = "bzh\(id)x\(index)", inside = "bzn\(id)x\(index)"
                try await Command.run([ip, "netns", "add", namespace])
                try await Command.run([ip, "link", "add", host, "type", "veth", "peer", "name", inside])
                try await Command.run([ip, "link", "set", inside, "netns", namespace])
                try await Command.run([ip, "link", "set", host, "master", bridge])
                try await Command.run([ip, "link", "set", host, "up"])
                try await Command.run([ip, "netns", "exec", namespace, ip, "addr", "add", "\(addresses[member]!)/24", "dev", inside])
                try await Command.run([ip, "netns", "exec", namespace, ip, "link", "set", inside, "up"])
                try await Command.run([ip, "netns", "exec", namespace, ip, "link", "set", "lo", "up"])
            }
        } catch {
            await lab.destroy()
            throw error
        }
        return lab
    }

    /// Makes `layout`'s members listen on their own addresses, each started in its namespace.
    public func apply(to layout: inout ClusterLayout) {
        for (member, namespace) in namespaces {
            layout.memberHosts[member] = addresses[member]
            layout.launchPrefix[member] = [Self.ip, "netns", "exec", namespace]
        }
    }

    /// Drops every packet `from` sends to `to`: `from`'s messages to `to` are lost, and so are
    /// its answers to what `to` sends it (`to`'s messages still arrive).
    public func cut(from: String, to: String) async throws {
        guard let namespace = namespaces[from], let address = addresses[to] else { return }
        try await Command.run([Self.ip, "netns", "exec", namespace, Self.iptables, "-A", "OUTPUT", "-d", address, "-j", "DROP"])
    }

    /// No packet passes between `a` and `b`, either way.
    public func partition(_ a: String, _ b: String) async throws {
        try await cut(from: a, to: b)
        try await cut(from: b, to: a)
    }

    /// `member` reaches none of `others`, and they do not reach it.
    public func isolate(_ member: String, from others: [String]) async throws {
        for other in others where other != member { try await partition(member, other) }
    }

    /// Every cut removed.
    public func heal() async throws {
        for namespace in namespaces.values {
            try await Command.run([Self.ip, "netns", "exec", namespace, Self.iptables, "-F", "OUTPUT"])
        }
    }

    /// Removes the namespaces (and their links) and the bridge. Stop the members first.
    public func destroy() async {
        for namespace in namespaces.values { try? await Command.run([Self.ip, "netns", "delete", namespace]) }
        try? await Command.run([Self.ip, "link", "delete", bridge])
        try? await Command.run([Self.iptables, "-D", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"])
    }
}
