#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// How a service begins, and why it could not: a port that is taken, a database that will not
/// open or a setting that cannot work ends the process at once with one line naming it (and a
/// non-zero status), not a crash later in shutdown.
public enum ServiceStart {
    /// Checks the listening address first (before a replica opens its database), then builds the
    /// application and runs it (beside the span export, when there is one); a failure to listen is
    /// said in the service's words.
    ///
    /// `replica` names this process among the service's (`catalog-1`; a front end has no name,
    /// and its spans name it by its address); `tracing` makes its tracer when spans are sent.
    public static func run(
        _ settings: ServerSettings, service: String, replica: String?, tracing: TracerBootstrap,
        _ build: () async throws -> some ApplicationProtocol
    ) async throws {
        do {
            try await checkAddress(host: settings.host, port: settings.port)
            // The tracer first: every span the application makes goes to the process's tracer.
            let logger = ServiceApplication.logger(name: replica ?? service, level: settings.logLevel)
            let process = TracedProcess(service: "bazar-\(service)", instance: replica ?? "\(service)@\(settings.host):\(settings.port)")
            let spanExport = try settings.traceExport.map { export in
                let service = try tracing(export, process, logger)
                logger.info("sending spans", metadata: ["endpoint": "\(export.tracesURL)", "protocol": "\(export.encoding.rawValue)"])
                return service
            }
            let application = try await build()
            guard let spanExport else { return try await application.runService() }
            // Stopped in reverse order: the application first, then the export flushes its spans.
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: spanExport), .init(service: application)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: application.logger))
            try await group.run()
        } catch let error as IOError where error.isBindFailure {
            throw ConfigurationError(listenFailure(host: settings.host, port: settings.port, errno: error.errnoCode))
        } catch let error as SocketAddressError {
            throw ConfigurationError("cannot listen on \(settings.host):\(settings.port): \(error) (set BAZAR_HOST or --host)")
        }
    }

    /// Binds the address and lets it go again, with the options the server binds with.
    public static func checkAddress(host: String, port: Int) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port).get()
        try await channel.close()
    }

    static func listenFailure(host: String, port: Int, errno: Int32) -> String {
        let reason = String(cString: strerror(errno)).lowercased()
        let hint = switch errno {
        case EADDRINUSE: "another process holds port \(port); stop it, or set BAZAR_PORT or --port"
        case EACCES: "ports below 1024 need privileges; set BAZAR_PORT or --port"
        default: "set BAZAR_HOST/--host or BAZAR_PORT/--port"
        }
        return "cannot listen on \(host):\(port): \(reason) (\(hint))"
    }
}

extension IOError {
    var isBindFailure: Bool { String(describing: self).hasPrefix("bind(") }
}
