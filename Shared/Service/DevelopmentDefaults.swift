#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// The development secrets that `compose.yaml` falls back to when neither the environment nor an
/// `.env` file sets one, so that `docker compose up` works out of the box. They are public (they
/// are in the repository), so every service names, at start, each setting still on one of them.
public enum DevelopmentDefaults {
    public static let adminToken = "bazar-dev-admin-token"
    public static let internalToken = "bazar-dev-internal-token"
    /// The PostgreSQL password, found inside `BAZAR_DATABASE_URL`.
    public static let databasePassword = "bazar-dev-db-password"

    /// The settings whose value is a development default, as `BAZAR_… (--flag)`, in a fixed order.
    /// `databaseURL` is nil for a service without a database (the front end).
    public static func settingsOnDefaults(tokens: AccessTokens, databaseURL: String?) -> [String] {
        var settings: [String] = []
        if tokens.admin == adminToken { settings.append("BAZAR_ADMIN_TOKEN (--admin-token)") }
        if tokens.internal == internalToken { settings.append("BAZAR_INTERNAL_TOKEN (--internal-token)") }
        if let databaseURL, URLComponents(string: databaseURL)?.password == databasePassword {
            settings.append("BAZAR_DATABASE_URL (--database): its password")
        }
        return settings
    }

    /// Logs one warning per setting still on its development default.
    public static func warn(tokens: AccessTokens, databaseURL: String?, logger: Logger) {
        for setting in settingsOnDefaults(tokens: tokens, databaseURL: databaseURL) {
            logger.warning("\(setting) is on its public development default: set your own secret (see .env.example)")
        }
    }
}
