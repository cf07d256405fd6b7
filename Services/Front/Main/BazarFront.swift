import ArgumentParser
import BazarService
import FrontService
import Hummingbird

@main
struct BazarFront: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bazar-front", abstract: "The Bazar front end: the public API, its cache and load balancing.",
        subcommands: [ServiceProbe.self])

    @OptionGroup var server: ServerOptions
    @OptionGroup var front: FrontOptions

    func run() async throws {
        try ServiceLogging.bootstrap(format: server.logFormat)
        ServiceMetrics.bootstrap()
        let configuration = try front.resolve(server: server)
        try await ServiceStart.run(configuration.server, service: "front", replica: nil, tracing: FrontTracing.bootstrap) {
            try await buildFrontApplication(configuration)
        }
    }
}
