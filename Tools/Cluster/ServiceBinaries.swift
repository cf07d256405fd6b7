import ArgumentParser
import Foundation

/// Finds the service executables: next to the running tool (`bazar`, `bazar-lab`) (where `swift build` puts them), or
/// in `BAZAR_BIN_DIR`. Inside a checkout, missing ones are built first.
public enum ServiceBinaries {
    public static let names = ["bazar-front", "bazar-catalog", "bazar-order"]

    public static func locate() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["BAZAR_BIN_DIR"] {
            return URL(fileURLWithPath: configured, isDirectory: true)
        }
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let missing = names.filter { !FileManager.default.isExecutableFile(atPath: own.appendingPathComponent($0).path) }
        guard !missing.isEmpty else { return own }
        guard FileManager.default.fileExists(atPath: "Package.swift") else {
            throw ValidationError("\(missing.joined(separator: ", ")) not found next to \(own.path); set BAZAR_BIN_DIR")
        }
        let configuration = own.lastPathComponent == "release" ? "release" : "debug"
        for name in missing {
            FileHandle.standardOutput.write(Data("building \(name) (\(configuration)) …\n".utf8))
            let build = Process()
            build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            build.arguments = ["swift", "build", "-c", configuration, "--product", name]
            try build.run()
            build.waitUntilExit()
            guard build.terminationStatus == 0 else { throw ValidationError("swift build --product \(name) failed") }
        }
        return own
    }
}
