import ArgumentParser
import Foundation

@main
struct Bazar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bazar",
        abstract: "Run and exercise a local Bazar.",
        subcommands: [Up.self, Status.self, Bench.self, ScrapeConfigCommand.self, CeilingServer.self])
}
