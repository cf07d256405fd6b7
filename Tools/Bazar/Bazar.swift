import ArgumentParser
import Foundation

@main
struct Bazar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bazar",
        abstract: "Run and exercise a local Bazar.",
        subcommands: [Up.self, Load.self, Bench.self])
}

/// Prints a progress line at once, even when output goes to a file or a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
