import ArgumentParser
import BazarLoad
import Foundation
import Hummingbird
import NIOCore

/// The ceiling of a cached read: a bare Hummingbird 2 server, no middleware, answering
/// `GET /info/{id}` with the bytes the front end answered. Started by `bazar bench --ceilings` as
/// a process of its own, as the front end is; it writes its port to `--port-file`.
struct CeilingServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ceiling-server", abstract: "A bare Hummingbird server for bazar bench --ceilings.", shouldDisplay: false)

    @Option(help: "The file whose bytes every answer carries.")
    var bodyFile: String

    @Option(help: "The file to write the listening port to.")
    var portFile: String

    func run() async throws {
        let body = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: bodyFile)))
        let router = Router()
        router.get("/info/:id") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
        let portFile = portFile
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                try? String(channel.localAddress?.port ?? 0).write(toFile: portFile, atomically: true, encoding: .utf8)
            })
        try await app.runService()
    }

    /// Runs `measure` against a bare server answering `body`, started from this executable.
    static func with<T: Sendable>(body: Data, _ measure: (String) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-ceiling-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bodyFile = directory.appendingPathComponent("body"), portFile = directory.appendingPathComponent("port")
        try body.write(to: bodyFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["bench-ceiling-server", "--body-file", bodyFile.path, "--port-file", portFile.path]
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text), port > 0 {
                return try await measure("http://127.0.0.1:\(port)")
            }
            guard process.isRunning else { throw LoadError("the ceiling server exited with status \(process.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LoadError("the ceiling server did not start within 30 s")
    }
}
