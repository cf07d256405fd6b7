import ArgumentParser
import AsyncHTTPClient
import NIOCore

/// `bazar-front probe`, `bazar-catalog probe`, `bazar-order probe`: one GET of a path of this
/// container's own service. The images are distroless (no shell, no curl), so their health checks
/// run the service binary itself; operators use it to read a replica's status from inside its
/// container. Prints the body; exits 0 on 200, 1 on another status or no answer.
public struct ServiceProbe: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "GET a path of the service on this host (health checks in images without a shell).")

    @Argument(help: "The path to GET.")
    var path: String = "/health"

    // An argument, not `--port`: the service command's own `--port` would take that.
    @Argument(help: "The port the service listens on. [env: BAZAR_PORT, default: 8080]")
    var port: Int?

    @Option(help: "Give up after this many milliseconds.")
    var timeoutMs: Int = 3000

    public init() {}

    public func run() async throws {
        let port = try Setting.int(port, env: "BAZAR_PORT", default: 8080)
        let path = path.hasPrefix("/") ? path : "/" + path
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        let code: UInt
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeoutMs)))
            code = response.status.code
            print(String(buffer: try await response.body.collect(upTo: 4 << 20)))
        } catch {
            throw ProbeFailure(description: "no answer from 127.0.0.1:\(port)\(path): \(error)")
        }
        // ArgumentParser prints a thrown error as "Error: …" on stderr and exits 1.
        guard code == 200 else { throw ProbeFailure(description: "\(path) answered \(code)") }
    }
}

struct ProbeFailure: Error, CustomStringConvertible {
    let description: String
}
