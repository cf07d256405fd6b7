#if canImport(Glibc)
import Glibc
#endif
import Logging

/// How log lines are written (`BAZAR_LOG_FORMAT`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `time=… level=info service=catalog replica=catalog-1 msg="became leader" seq=5 term=2 source=…`
    case logfmt
    /// One JSON object per line, the same fields (metadata values as strings).
    case json
}

/// The services' log handler: one line per event on standard error, logfmt or JSON, with the
/// service and replica name on every line. Metadata is rendered only when a line is written:
/// Hummingbird and Bazar set request metadata on every request's logger, and rendering it for
/// lines nobody writes cost about 5 % of the front end's time on cached reads.
public struct ServiceLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat

    public init(label: String, format: LogFormat = .logfmt, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata, !explicit.isEmpty { all.merge(explicit) { _, new in new } }
        let text = Self.line(format: format, time: Self.timestamp(), level: event.level, label: label, message: "\(event.message)",
                             metadata: all.mapValues { "\($0)" }, source: event.source)
        // One write per line, so that lines of concurrent tasks do not interleave.
        text.utf8CString.withUnsafeBufferPointer { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count - 1)
        }
    }

    /// One line, newline included: the fixed fields first (time, level, service, replica when the
    /// label names one, msg), then the metadata by key, then the source module.
    public static func line(
        format: LogFormat, time: String, level: Logger.Level, label: String, message: String, metadata: [String: String], source: String
    ) -> String {
        let service = String(label.prefix { $0 != "-" })
        var fields = [("time", time), ("level", "\(level)"), ("service", service)]
        if service != label { fields.append(("replica", label)) }
        fields.append(("msg", message))
        fields += metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        fields.append(("source", source))
        switch format {
        case .logfmt:
            return fields.map { "\($0.0)=\(logfmtValue($0.1))" }.joined(separator: " ") + "\n"
        case .json:
            return "{" + fields.map { "\(quoted($0.0)):\(quoted($0.1))" }.joined(separator: ",") + "}\n"
        }
    }

    /// Bare when it can be, else quoted (logfmt).
    static func logfmtValue(_ value: String) -> String {
        let bare = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 32 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 127 }
        return bare ? value : quoted(value)
    }

    /// In double quotes, with `"`, `\` and control characters escaped as JSON does (logfmt's
    /// quoted values take the same escapes).
    static func quoted(_ value: String) -> String {
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

public enum ServiceLogging {
    /// Called once by each service's `main`, with `--log-format` as given: swift-log takes one
    /// handler factory per process.
    public static func bootstrap(format: String?) throws {
        let format = try Setting.logFormat(Setting.string(format, env: "BAZAR_LOG_FORMAT", default: LogFormat.logfmt.rawValue))
        LoggingSystem.bootstrap({ label, provider in ServiceLogHandler(label: label, format: format, metadataProvider: provider) },
                                metadataProvider: nil)
    }
}
