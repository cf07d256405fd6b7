#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The services' log handler: the line format of swift-log's `StreamLogHandler` (tests and
/// people read it: `<time> <level> <label> : <key=value …> [<source>] <message>`), but metadata
/// is rendered only when a line is written. `StreamLogHandler` renders it whenever it is set, and
/// Hummingbird sets a request id on every request's logger: about 5 % of the front end's time on
/// cached reads went to rendering lines nobody wrote.
public struct ServiceLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        var all = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { all.merge(provided) { _, new in new } }
        if let explicit, !explicit.isEmpty { all.merge(explicit) { _, new in new } }
        let rendered = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(Self.timestamp()) \(level) \(label) :\(rendered) [\(source)] \(message)\n"
        // One write per line, so that lines of concurrent tasks do not interleave.
        text.utf8CString.withUnsafeBufferPointer { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count - 1)
        }
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
    /// Called once by each service's `main`: swift-log takes one handler factory per process.
    public static func bootstrap() {
        LoggingSystem.bootstrap({ label, provider in ServiceLogHandler(label: label, metadataProvider: provider) }, metadataProvider: nil)
    }
}
