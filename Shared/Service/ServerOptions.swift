import ArgumentParser
import Logging

/// The settings every service has. Flags override `BAZAR_…` variables, which override defaults.
public struct ServerOptions: ParsableArguments, Sendable {
    @Option(help: "Address to listen on. [env: BAZAR_HOST, default: 127.0.0.1]")
    public var host: String?

    @Option(help: "Port to listen on. [env: BAZAR_PORT, default: the service's own]")
    public var port: Int?

    @Option(help: "trace, debug, info, notice, warning, error. [env: BAZAR_LOG_LEVEL, default: info]")
    public var logLevel: String?

    @Option(help: "Bearer token for admin routes; none leaves them open. [env: BAZAR_ADMIN_TOKEN]")
    public var adminToken: String?

    @Option(help: "Bearer token for replica-to-replica routes; none leaves them open. [env: BAZAR_INTERNAL_TOKEN]")
    public var internalToken: String?

    @Option(help: "Largest request body accepted, in bytes. [env: BAZAR_MAX_BODY_BYTES, default: 65536]")
    public var maxBodyBytes: Int?

    @Option(help: "Deadline of one call to another service, in milliseconds. [env: BAZAR_BACKEND_TIMEOUT_MS, default: 2000]")
    public var backendTimeoutMs: Int?

    @Option(help: "Deadline of a request's calls to other services, retries on other replicas included, in milliseconds. [env: BAZAR_REQUEST_DEADLINE_MS, default: 8000]")
    public var requestDeadlineMs: Int?

    @Option(help: "Connections kept per back-end replica for calls to it. [env: BAZAR_BACKEND_CONNECTIONS, default: 64]")
    public var backendConnections: Int?

    public init() {}

    /// The resolved values.
    public func resolve(defaultPort: Int) throws -> ServerSettings {
        ServerSettings(
            host: Setting.string(host, env: "BAZAR_HOST", default: "127.0.0.1"),
            port: try Setting.int(port, env: "BAZAR_PORT", default: defaultPort),
            logLevel: try Setting.logLevel(Setting.string(logLevel, env: "BAZAR_LOG_LEVEL", default: "info")),
            tokens: AccessTokens(
                admin: Setting.optionalString(adminToken, env: "BAZAR_ADMIN_TOKEN"),
                internal: Setting.optionalString(internalToken, env: "BAZAR_INTERNAL_TOKEN")),
            maxBodyBytes: try Setting.int(maxBodyBytes, env: "BAZAR_MAX_BODY_BYTES", default: 65536),
            backendTimeout: .milliseconds(try Setting.int(backendTimeoutMs, env: "BAZAR_BACKEND_TIMEOUT_MS", default: 2000)),
            requestDeadline: .milliseconds(try Setting.int(requestDeadlineMs, env: "BAZAR_REQUEST_DEADLINE_MS", default: 8000)),
            backendConnections: try Setting.positiveInt(backendConnections, env: "BAZAR_BACKEND_CONNECTIONS", default: 64))
    }
}

public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var tokens: AccessTokens
    public var maxBodyBytes: Int
    public var backendTimeout: Duration
    public var requestDeadline: Duration
    /// Connections kept per back-end host: AsyncHTTPClient's default of 8 caps throughput.
    public var backendConnections: Int

    public init(host: String = "127.0.0.1", port: Int, logLevel: Logger.Level = .info, tokens: AccessTokens = .init(admin: nil, internal: nil),
                maxBodyBytes: Int = 65536, backendTimeout: Duration = .seconds(2), requestDeadline: Duration = .seconds(8), backendConnections: Int = 64) {
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.tokens = tokens
        self.maxBodyBytes = maxBodyBytes
        self.backendTimeout = backendTimeout
        self.requestDeadline = requestDeadline
        self.backendConnections = backendConnections
    }
}
