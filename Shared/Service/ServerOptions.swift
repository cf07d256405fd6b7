import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The settings every service has. Flags override `BAZAR_…` variables, which override defaults.
public struct ServerOptions: ParsableArguments, Sendable {
    @Option(help: "Address to listen on. [env: BAZAR_HOST, default: 127.0.0.1]")
    public var host: String?

    @Option(help: "Port to listen on. [env: BAZAR_PORT, default: the service's own]")
    public var port: Int?

    @Option(help: "trace, debug, info, notice, warning, error. [env: BAZAR_LOG_LEVEL, default: info]")
    public var logLevel: String?

    @Option(help: "logfmt or json: how log lines are written. [env: BAZAR_LOG_FORMAT, default: logfmt]")
    public var logFormat: String?

    @Option(help: "Bearer token for admin routes (required, or its file). [env: BAZAR_ADMIN_TOKEN]")
    public var adminToken: String?

    @Option(help: "A file holding the admin token (the _FILE convention of Docker secrets). [env: BAZAR_ADMIN_TOKEN_FILE]")
    public var adminTokenFile: String?

    @Option(help: "Bearer token for the routes services call among themselves (required, or its file). [env: BAZAR_INTERNAL_TOKEN]")
    public var internalToken: String?

    @Option(help: "A file holding the internal token. [env: BAZAR_INTERNAL_TOKEN_FILE]")
    public var internalTokenFile: String?

    @Option(help: "Largest request body accepted, in bytes. [env: BAZAR_MAX_BODY_BYTES, default: 65536]")
    public var maxBodyBytes: Int?

    @Option(help: "Longest request target (path and query) accepted, in bytes; longer ones get 414. [env: BAZAR_MAX_URI_BYTES, default: 4096]")
    public var maxUriBytes: Int?

    @Option(help: "A connection that sends nothing for this long, or no complete request head this long after opening or after its last answer, is closed, in milliseconds; at least 10000 (twice the services' own pool idle time). [env: BAZAR_IDLE_TIMEOUT_MS, default: 30000]")
    public var idleTimeoutMs: Int?

    @Option(help: "Open client connections at most; past it, new ones wait to be accepted. [env: BAZAR_MAX_CONNECTIONS, default: half the open-file limit, at most 4096]")
    public var maxConnections: Int?

    @Option(help: "Deadline of one call to another service, in milliseconds. [env: BAZAR_BACKEND_TIMEOUT_MS, default: 2000]")
    public var backendTimeoutMs: Int?

    @Option(help: "Deadline of a request's calls to other services, retries on other replicas included, in milliseconds. [env: BAZAR_REQUEST_DEADLINE_MS, default: 8000]")
    public var requestDeadlineMs: Int?

    @Option(help: "Connections kept per back-end replica for calls to it. [env: BAZAR_BACKEND_CONNECTIONS, default: 64]")
    public var backendConnections: Int?

    @Option(help: "An OpenTelemetry collector's OTLP/HTTP endpoint to send spans to, e.g. http://127.0.0.1:4318 (spans go to its /v1/traces). [env: BAZAR_OTLP_ENDPOINT, default: none, no spans are made]")
    public var otlpEndpoint: String?

    @Option(help: "http/protobuf or http/json: how spans are sent. [env: BAZAR_OTLP_PROTOCOL, default: http/protobuf]")
    public var otlpProtocol: String?

    public init() {}

    /// The resolved values.
    public func resolve(defaultPort: Int) throws -> ServerSettings {
        ServerSettings(
            host: Setting.string(host, env: "BAZAR_HOST", default: "127.0.0.1"),
            port: try Setting.int(port, env: "BAZAR_PORT", default: defaultPort),
            logLevel: try Setting.logLevel(Setting.string(logLevel, env: "BAZAR_LOG_LEVEL", default: "info")),
            tokens: AccessTokens(
                admin: try Setting.secret(adminToken, env: "BAZAR_ADMIN_TOKEN", file: adminTokenFile, flag: "--admin-token"),
                internal: try Setting.secret(internalToken, env: "BAZAR_INTERNAL_TOKEN", file: internalTokenFile, flag: "--internal-token")),
            maxBodyBytes: try Setting.positiveInt(maxBodyBytes, env: "BAZAR_MAX_BODY_BYTES", default: ServerSettings.defaultMaxBodyBytes),
            maxURIBytes: try Setting.positiveInt(maxUriBytes, env: "BAZAR_MAX_URI_BYTES", default: 4096),
            idleTimeout: .milliseconds(try Setting.atLeast(
                Int(BackendClient.poolIdleTimeout.milliseconds) * 2, idleTimeoutMs, env: "BAZAR_IDLE_TIMEOUT_MS", default: 30000)),
            maxConnections: try Setting.positiveInt(maxConnections, env: "BAZAR_MAX_CONNECTIONS", default: ServerSettings.defaultMaxConnections),
            backendTimeout: .milliseconds(try Setting.int(backendTimeoutMs, env: "BAZAR_BACKEND_TIMEOUT_MS", default: 2000)),
            requestDeadline: .milliseconds(try Setting.int(requestDeadlineMs, env: "BAZAR_REQUEST_DEADLINE_MS", default: 8000)),
            backendConnections: try Setting.positiveInt(backendConnections, env: "BAZAR_BACKEND_CONNECTIONS", default: 64),
            traceExport: try TraceExport.resolve(endpoint: otlpEndpoint, encoding: otlpProtocol))
    }
}

public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var tokens: AccessTokens
    public var maxBodyBytes: Int
    public var maxURIBytes: Int
    /// How long a connection may stay silent, or take to send a request head (slow clients).
    public var idleTimeout: Duration
    /// Open client connections at most: a flood of them waits in the kernel's backlog instead of
    /// taking every file descriptor (and with them the calls this service makes).
    public var maxConnections: Int
    public var backendTimeout: Duration
    public var requestDeadline: Duration
    /// Connections kept per back-end host: AsyncHTTPClient's default of 8 caps throughput.
    public var backendConnections: Int
    /// Where spans go; nil: nowhere, and none is made.
    public var traceExport: TraceExport?

    public static let defaultMaxBodyBytes = 65536

    public init(host: String = "127.0.0.1", port: Int, logLevel: Logger.Level = .info, tokens: AccessTokens,
                maxBodyBytes: Int = defaultMaxBodyBytes, maxURIBytes: Int = 4096, idleTimeout: Duration = .seconds(30), maxConnections: Int = defaultMaxConnections,
                backendTimeout: Duration = .seconds(2), requestDeadline: Duration = .seconds(8), backendConnections: Int = 64,
                traceExport: TraceExport? = nil) {
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.tokens = tokens
        self.maxBodyBytes = maxBodyBytes
        self.maxURIBytes = maxURIBytes
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.backendTimeout = backendTimeout
        self.requestDeadline = requestDeadline
        self.backendConnections = backendConnections
        self.traceExport = traceExport
    }
}

extension ServerSettings {
    /// Half the process's open-file limit (the other half for its database and the calls it
    /// makes), at most 4096.
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 4096 }
        return max(16, min(4096, Int(limit.rlim_cur / 2)))
    }
}
