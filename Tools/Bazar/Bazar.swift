import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

@main
struct Bazar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bazar",
        abstract: "Run and exercise a local Bazar.",
        subcommands: [Up.self])

    static func main() async {
        // Progress lines must reach a log file or a pipe as they happen.
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
