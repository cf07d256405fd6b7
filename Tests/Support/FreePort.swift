#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Loopback ports that nothing listens on, for tests that start real servers. They come from
/// below the kernel's ephemeral range (32768 and up): a member killed and restarted on its port
/// must find it free, and an outgoing connection of any process may take an ephemeral port
/// meanwhile (seen once: "cannot listen on 127.0.0.1:57113: address already in use" at a restart).
public enum FreePort {
    /// Ports handed out by this process, singly or in blocks: two layouts made at the same time
    /// get different ones.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port no socket is bound to now, not handed out before by this process.
    public static func next() -> Int {
        while true {
            let port = Int.random(in: 20000...32000)
            guard isFree(port) else { continue }
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
    }

    /// `count` consecutive free ports (the layout `bazar up` uses: the front end's, then each
    /// replica's after it), below the kernel's ephemeral range so that no outgoing connection takes one meanwhile.
    public static func block(_ count: Int) -> Int {
        while true {
            let base = Int.random(in: 20000...(32000 - count))
            let ports = base..<base + count
            guard ports.allSatisfy(isFree) else { continue }
            // Counted with `next`'s: a port checked free here and handed to another test before
            // this layout's member binds it failed a start ("address already in use", in CI).
            let claimed = handedOut.withLock { handed in
                guard ports.allSatisfy({ !handed.contains($0) }) else { return false }
                handed.formUnion(ports)
                return true
            }
            if claimed { return base }
        }
    }

    /// Whether a listening socket can bind `port` on loopback now.
    public static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        return withLoopback(port) { bind(fd, $0, $1) } == 0
    }

    /// Calls `body` with the socket address 127.0.0.1:`port` and its length.
    public static func withLoopback<T>(_ port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

