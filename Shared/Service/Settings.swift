#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Settings come from a command-line flag, else a `BAZAR_…` environment variable, else a default
/// that works on a developer's machine. Every service resolves each setting this one way.
public enum Setting {
    public static func string(_ flag: String?, env: String, default fallback: String) -> String {
        flag ?? environment(env) ?? fallback
    }

    public static func optionalString(_ flag: String?, env: String) -> String? {
        flag ?? environment(env)
    }

    /// A secret: the flag, the `env` variable, or the file the flag `<flag>-file` or `<env>_FILE` names
    /// (its text, without surrounding whitespace). Required: none is a `ConfigurationError`.
    public static func secret(_ value: String?, env: String, file: String?, flag: String) throws -> String {
        if let value = optionalString(value, env: env) { return value }
        guard let path = optionalString(file, env: env + "_FILE") else {
            throw ConfigurationError("\(env) is not set: give \(env), \(env)_FILE or \(flag)(-file) (bazar up and docker compose up make one)")
        }
        return try secretFile(path, variable: env + "_FILE")
    }

    /// The text of the file at `path` that `variable` names, without surrounding whitespace.
    public static func secretFile(_ path: String, variable: String) throws -> String {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read \(variable)=\(path): \(error)")
        }
        let secret = text.trimmingWhitespace()
        guard !secret.isEmpty else { throw ConfigurationError("\(variable)=\(path) is empty") }
        return secret
    }

    public static func int(_ flag: Int?, env: String, default fallback: Int) throws -> Int {
        if let flag { return flag }
        guard let text = environment(env) else { return fallback }
        guard let value = Int(text) else { throw ConfigurationError("\(env)=\(text) is not a whole number") }
        return value
    }

    public static func positiveInt(_ flag: Int?, env: String, default fallback: Int) throws -> Int {
        let value = try int(flag, env: env, default: fallback)
        guard value > 0 else { throw ConfigurationError("\(env) must be at least 1, not \(value)") }
        return value
    }

    public static func atLeast(_ minimum: Int, _ flag: Int?, env: String, default fallback: Int) throws -> Int {
        let value = try int(flag, env: env, default: fallback)
        guard value >= minimum else { throw ConfigurationError("\(env) must be at least \(minimum), not \(value)") }
        return value
    }

    /// A duration in milliseconds where 0 means "off".
    public static func optionalMilliseconds(_ flag: Int?, env: String) throws -> Duration? {
        let value = try int(flag, env: env, default: 0)
        guard value >= 0 else { throw ConfigurationError("\(env) must be 0 (off) or more, not \(value)") }
        return value == 0 ? nil : .milliseconds(value)
    }

    static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// Parses `name=url,name=url` (a replica list such as `catalog-1=http://127.0.0.1:8081`).
    public static func replicas(_ text: String, setting: String) throws -> [ReplicaEndpoint] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2, let name = ReplicaName(parts[0]), parts[1].hasPrefix("http") else {
                throw ConfigurationError("\(setting): '\(item)' is not name=url (for example catalog-1=http://127.0.0.1:8081)")
            }
            return ReplicaEndpoint(name: name, url: parts[1].hasSuffix("/") ? String(parts[1].dropLast()) : parts[1])
        }
    }

    /// Parses a comma-separated list of base URLs.
    public static func urls(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            .map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    public static func logLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ConfigurationError("log level '\(text)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }

    public static func logFormat(_ text: String) throws -> LogFormat {
        guard let format = LogFormat(rawValue: text.lowercased()) else {
            throw ConfigurationError("BAZAR_LOG_FORMAT '\(text)' is not one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return format
    }
}

import BazarModels

/// Where a replica answers.
public struct ReplicaEndpoint: Sendable, Hashable {
    public var name: ReplicaName
    public var url: String

    public init(name: ReplicaName, url: String) {
        self.name = name
        self.url = url
    }
}

