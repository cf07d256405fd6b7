import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// What every service's `buildApplication` starts from: a router that answers errors in the
/// contract's shape, and an application listening where the settings say.
public enum ServiceApplication {
    public static func makeRouter(settings: ServerSettings) -> ServiceRouter<BazarRequestContext> {
        let known = KnownPaths()
        let untraced = KnownPaths()
        let router = Router(context: BazarRequestContext.self)
        // Outermost, so that it counts the status an error was finally answered with.
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RequestIDMiddleware(addsMadeIDToRequest: settings.traceExport != nil))
        Traces.add(to: router, export: settings.traceExport, untraced: untraced)
        router.add(middleware: ErrorBodyMiddleware(known: known))
        router.add(middleware: RequestLimitsMiddleware(maxURIBytes: settings.maxURIBytes, maxBodyBytes: settings.maxBodyBytes))
        router.add(middleware: LogRequestsMiddleware(.debug))
        return ServiceRouter(router: router, known: known, untraced: untraced)
    }

    public static func make(
        router: ServiceRouter<BazarRequestContext>, name: String, settings: ServerSettings,
        services: [any Service], logger: Logger
    ) -> Application<RouterResponder<BazarRequestContext>> {
        let idle = TimeAmount.milliseconds(settings.idleTimeout.milliseconds)
        return Application(
            router: router.router,
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestHeadDeadline(limit: idle)], idleTimeout: idle)),
            configuration: .init(
                address: .hostname(settings.host, port: settings.port), serverName: name,
                availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections)),
            services: services,
            logger: logger)
    }

    public static func logger(name: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: name)
        logger.logLevel = level
        return logger
    }
}
