import Foundation

/// Names the process that listens on a TCP port, from `/proc` (Linux): the socket's inode in
/// `/proc/net/tcp{,6}`, then the process holding a descriptor to it. Nil where that cannot be
/// seen (another user's process, another network namespace, not Linux).
public enum PortHolder {
    /// "pid 1234 (bazar-catalog --port 8081 …)".
    public static func describe(port: Int) -> String? {
        guard let inode = listeningInode(port: port) else { return nil }
        let target = "socket:[\(inode)]"
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        for pid in pids {
            let fdDirectory = "/proc/\(pid)/fd"
            guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { continue }
            for descriptor in descriptors
            where (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(descriptor)")) == target {
                return "pid \(pid) (\(commandLine(of: pid)))"
            }
        }
        return nil
    }

    /// The inode of the socket listening on `port`, from the kernel's tables (state 0A is LISTEN).
    static func listeningInode(port: Int) -> String? {
        let hexPort = String(format: ":%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[1].hasSuffix(hexPort), fields[3] == "0A", fields[9] != "0" else { continue }
                return String(fields[9])
            }
        }
        return nil
    }

    static func commandLine(of pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return "?" }
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let text = ([URL(fileURLWithPath: words[0]).lastPathComponent] + words.dropFirst()).joined(separator: " ")
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.count > 80 ? String(text.prefix(79)) + "…" : text
    }
}
