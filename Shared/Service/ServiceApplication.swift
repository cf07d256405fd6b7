import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// What every service's `buildApplication` starts from: a router that answers errors in the
/// contract's shape, and an application listening where the settings say.
public enum ServiceApplication {
    public static func makeRoutes() -> RouteTable<BazarRequestContext> {
        let known = KnownPaths()
        let router = Router(context: BazarRequestContext.self)
        // Outermost, so that it counts the status an error was finally answered with.
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorBodyMiddleware(known: known))
        router.add(middleware: LogRequestsMiddleware(.debug))
        return RouteTable(router: router, known: known)
    }

    public static func make(
        routes: RouteTable<BazarRequestContext>, name: String, settings: ServerSettings,
        services: [any Service], logger: Logger
    ) -> Application<RouterResponder<BazarRequestContext>> {
        Application(
            router: routes.router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: name),
            services: services,
            logger: logger)
    }

    public static func logger(name: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: name)
        logger.logLevel = level
        return logger
    }
}
