import ArgumentParser
import Foundation

/// Finds the service executables: in `BAZAR_BIN_DIR`, or next to the running tool (`bazar`,
/// `bazar-lab`), where `swift build` puts them. A tool that runs from a checkout's `.build`
/// (`swift run bazar up`) first builds them from the current sources, so that an edit is never
/// met by an old executable (an up-to-date build takes seconds).
public enum ServiceBinaries {
    public static let names = ["bazar-front", "bazar-catalog", "bazar-order"]

    public static func locate() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["BAZAR_BIN_DIR"] {
            return URL(fileURLWithPath: configured, isDirectory: true)
        }
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if let checkout = checkout(containing: own) {
            try build(in: checkout, configuration: own.lastPathComponent == "release" ? "release" : "debug")
        }
        let missing = names.filter { !FileManager.default.isExecutableFile(atPath: own.appendingPathComponent($0).path) }
        guard missing.isEmpty else {
            throw ValidationError("\(missing.joined(separator: ", ")) not found next to \(own.path); set BAZAR_BIN_DIR")
        }
        return own
    }

    /// The package whose `.build` holds `directory`, if any.
    static func checkout(containing directory: URL) -> URL? {
        let path = directory.path
        guard let range = path.range(of: "/.build/") else { return nil }
        let root = URL(fileURLWithPath: String(path[..<range.lowerBound]), isDirectory: true)
        return FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) ? root : nil
    }

    static func build(in checkout: URL, configuration: String) throws {
        FileHandle.standardOutput.write(Data("building the services from \(checkout.path) (\(configuration)) …\n".utf8))
        for name in names {
            let build = Process()
            build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            build.arguments = ["swift", "build", "--package-path", checkout.path, "-c", configuration, "--product", name]
            build.standardOutput = FileHandle.standardError
            try build.run()
            build.waitUntilExit()
            guard build.terminationStatus == 0 else {
                throw ValidationError("swift build --product \(name) failed (status \(build.terminationStatus)); nothing started")
            }
        }
    }
}
