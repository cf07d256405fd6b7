import Foundation

/// The tokens of a local Bazar: made on first start in `<data>/secrets` (the directory 0700, each
/// file 0600, random 256-bit hex) when neither the environment nor the layout gives them, and
/// kept, so that a restarted Bazar keeps its tokens. Services read them with `BAZAR_…_FILE`.
public enum LocalSecrets {
    public static let tokens = [("BAZAR_ADMIN_TOKEN", "admin-token"), ("BAZAR_INTERNAL_TOKEN", "internal-token")]

    /// `BAZAR_…_TOKEN_FILE` for each token that `environment` lacks, its file made if missing.
    public static func environment(for dataDirectory: URL, given environment: [String: String]) throws -> [String: String] {
        var files: [String: String] = [:]
        for (variable, name) in tokens where (environment[variable] ?? "").isEmpty && (environment[variable + "_FILE"] ?? "").isEmpty {
            files[variable + "_FILE"] = try ensure(name, in: dataDirectory).path
        }
        return files
    }

    /// `<data>/secrets/<name>`, made with a random token if missing.
    public static func ensure(_ name: String, in dataDirectory: URL) throws -> URL {
        let directory = dataDirectory.appendingPathComponent("secrets", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        let file = directory.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: file.path) {
            guard FileManager.default.createFile(atPath: file.path, contents: Data((randomToken() + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
            }
        }
        return file
    }

    /// 256 random bits in hex (the system generator: the kernel's getrandom).
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
