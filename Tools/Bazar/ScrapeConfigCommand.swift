import ArgumentParser
import BazarCluster
import Foundation

/// `bazar scrape-config`: the Prometheus scrape configuration for a local Bazar or the compose project.
struct ScrapeConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrape-config",
        abstract: "Print a Prometheus scrape configuration for every service of `bazar up` (same options), or of the compose project.")

    @OptionGroup var placement: TopologyOptions

    @Flag(help: "For a Prometheus inside the compose project's network: targets by service name, port 8080.")
    var compose = false

    @Option(help: "Seconds between scrapes. [env: BAZAR_SCRAPE_INTERVAL]")
    var interval = Int(ProcessInfo.processInfo.environment["BAZAR_SCRAPE_INTERVAL"] ?? "") ?? 5

    func run() throws {
        guard interval >= 1 else { throw ValidationError("--interval must be at least 1 second.") }
        let topology = try placement.topology()
        let config = compose
            ? ScrapeConfig.compose(catalogReplicas: topology.catalogReplicas, orderReplicas: topology.orderReplicas, intervalSeconds: interval)
            : ScrapeConfig(layout: ClusterLayout(topology: topology, dataDirectory: URL(fileURLWithPath: "/"), binDirectory: URL(fileURLWithPath: "/")),
                           intervalSeconds: interval)
        print(config.yaml, terminator: "")
    }
}
