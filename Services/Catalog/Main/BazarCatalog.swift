import ArgumentParser
import BazarReplication
import BazarService
import CatalogService
import Hummingbird

@main
struct BazarCatalog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bazar-catalog", abstract: "A Bazar catalog replica: books, stock, prices.",
        subcommands: [ServiceProbe.self])

    @OptionGroup var server: ServerOptions
    @OptionGroup var replica: ReplicaOptions

    func run() async throws {
        try ServiceLogging.bootstrap(format: server.logFormat)
        ServiceMetrics.bootstrap()
        let configuration = try CatalogConfiguration.resolve(server: server, replica: replica)
        try await ServiceStart.run(configuration.server, service: "catalog", replica: configuration.replica.me.description, tracing: OTelTracing.bootstrap) {
            try await buildCatalogApplication(configuration)
        }
    }
}
