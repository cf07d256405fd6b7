import ArgumentParser

/// `bazar-lab`: experiments that start their own local Bazars with test support (free ports,
/// latency proxies in front of replicas). Not shipped: the `bazar` tool links none of it.
@main
struct BazarLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bazar-lab",
        abstract: "Experiments on scratch local Bazars: the front end's benchmarks, the performance report.",
        subcommands: [Bench.self, PerformanceReport.self])
}
