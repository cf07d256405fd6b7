/// A Prometheus scrape configuration for a Bazar: one job per service (`front`, `catalog`,
/// `order`), every process a target labelled with its member name. `bazar scrape-config` prints
/// it for `bazar up` (or, with `--compose`, for the compose project's network); the tests scrape a
/// scratch cluster with it. The queries in docs/operations.md group by these jobs.
public struct ScrapeConfig: Sendable, Equatable {
    public struct Target: Sendable, Equatable {
        public var member: String
        /// `host:port`
        public var address: String

        public init(member: String, address: String) {
            self.member = member
            self.address = address
        }

        /// The service a member belongs to: `front-2` → `front`, `catalog-1` → `catalog`.
        public var job: String { member.split(separator: "-").first.map(String.init) ?? member }
    }

    public var targets: [Target]
    public var intervalSeconds: Int

    public init(targets: [Target], intervalSeconds: Int = 5) {
        self.targets = targets
        self.intervalSeconds = intervalSeconds
    }

    /// Every process of `layout`, at the address it listens on.
    public init(layout: ClusterLayout, intervalSeconds: Int = 5) {
        self.init(targets: layout.members.map { Target(member: $0.name, address: "\(layout.host(of: $0.name)):\($0.port)") },
                  intervalSeconds: intervalSeconds)
    }

    /// The compose project's services, as its network names them (every one listens on 8080 there).
    public static func compose(catalogReplicas: Int, orderReplicas: Int, intervalSeconds: Int = 5) -> ScrapeConfig {
        let members = ["front"] + (1...max(1, catalogReplicas)).map { "catalog-\($0)" } + (1...max(1, orderReplicas)).map { "order-\($0)" }
        return ScrapeConfig(targets: members.map { Target(member: $0, address: "\($0):8080") }, intervalSeconds: intervalSeconds)
    }

    /// The configuration file (YAML).
    public var yaml: String {
        var lines = [
            "# Prometheus scrape configuration for Bazar, made by `bazar scrape-config`.",
            "global:",
            "  scrape_interval: \(intervalSeconds)s",
            "  evaluation_interval: \(intervalSeconds)s",
            "scrape_configs:",
        ]
        var jobs: [String] = []
        for target in targets where !jobs.contains(target.job) { jobs.append(target.job) }
        for job in jobs {
            lines += ["  - job_name: \(job)", "    metrics_path: /metrics", "    static_configs:"]
            for target in targets where target.job == job {
                lines += ["      - targets: [\"\(target.address)\"]", "        labels: {member: \"\(target.member)\"}"]
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
