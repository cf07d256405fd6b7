import ArgumentParser
import BazarReplication
import BazarService
import Hummingbird
import OrderService

@main
struct BazarOrder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bazar-order", abstract: "A Bazar order replica: purchases and the order history.",
        subcommands: [ServiceProbe.self])

    @OptionGroup var server: ServerOptions
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var order: OrderOptions

    func run() async throws {
        try ServiceLogging.bootstrap(format: server.logFormat)
        ServiceMetrics.bootstrap()
        let configuration = try order.resolve(server: server, replica: replica)
        try await ServiceStart.run(configuration.server, service: "order", replica: configuration.replica.me.description, tracing: OTelTracing.bootstrap) {
            try await buildOrderApplication(configuration)
        }
    }
}
