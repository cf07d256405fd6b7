import BazarTestSupport
import Foundation
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Services and `bazar up` say what went wrong at start, through the real executables: a port
/// that is taken, a database that will not open, a service that dies, a checkout's sources.
@Suite("System: services and bazar up tell the truth", .serialized)
struct StartupTests {
    static let binDirectory = SystemCluster.binDirectory
    /// How long a process may take to give up: a bound for a hung process, not a speed test.
    static let exitLimit = Duration.seconds(60)
    /// `bazar up`'s own default wait for readiness.
    static let readyLimit = Duration.seconds(120)
    static let tokens = ["BAZAR_ADMIN_TOKEN": "startup-admin", "BAZAR_INTERNAL_TOKEN": "startup-internal"]

    static func scratchDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-startup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("a service whose port is taken exits at once, with one line naming the port, before opening its database",
          arguments: ["bazar-front", "bazar-catalog", "bazar-order"])
    func portTaken(executable: String) async throws {
        let held = try ListeningSocket()
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("replica.sqlite")
        let arguments = ["--port", "\(held.port)"] + (executable == "bazar-front" ? [] : ["--database", database.path])
        let service = try RunningCommand(Self.binDirectory + "/" + executable, arguments, environment: Self.tokens)
        let status = await service.exitStatus(within: Self.exitLimit)
        #expect(status == 1, "\(executable) on a taken port: \(status.map(String.init) ?? "still running"); output:\n\(service.output)")
        #expect(service.output.contains("cannot listen on 127.0.0.1:\(held.port): address already in use"), "\(service.output)")
        #expect(!service.output.contains("Assertion") && !service.output.contains("crashed"), "\(service.output)")
        #expect(!FileManager.default.fileExists(atPath: database.path), "the replica opened its database before finding its port taken")
        withExtendedLifetime(held) {}
    }

    @Test("`probe`, the images' health check: prints the body and exits 0 on 200, exits 1 on another status or no answer")
    func probe() async throws {
        try await SystemCluster.with { bazar in
            let catalog = try #require(URL(string: bazar.url("catalog-1"))?.port)
            let front = try #require(URL(string: bazar.front)?.port)
            func run(_ executable: String, _ arguments: [String]) async throws -> (Int32?, String) {
                let command = try RunningCommand(Self.binDirectory + "/" + executable, ["probe"] + arguments, environment: [:])
                return (await command.exitStatus(within: Self.exitLimit), command.output)
            }
            let (status, output) = try await run("bazar-catalog", ["/replication/status", "\(catalog)"])
            #expect(status == 0, "\(output)")
            #expect(output.contains(#""replica":"catalog-1""#), "\(output)")
            let (health, _) = try await run("bazar-front", ["/health", "\(front)"])
            #expect(health == 0)
            let (missing, said) = try await run("bazar-order", ["/no/such/route", "\(front)"])
            #expect(missing == 1 && said.contains("/no/such/route answered 404"), "\(said)")
            let port = FreePort.next()  // nothing listens there
            let (refused, told) = try await run("bazar-front", ["/health", "\(port)"])
            #expect(refused == 1 && told.contains("no answer from 127.0.0.1:\(port)/health"), "\(told)")
        }
    }

    @Test("a replica whose database will not open exits with one line naming it, password redacted")
    func databaseWillNotOpen() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A file where the database's directory should be.
        let blocker = directory.appendingPathComponent("not-a-directory")
        _ = FileManager.default.createFile(atPath: blocker.path, contents: Data("x".utf8))
        let unreachable = "postgres://bazar:s3cret-pw@127.0.0.1:\(FreePort.next())/bazar"
        for (executable, url, named) in [
            ("bazar-catalog", blocker.path + "/catalog.sqlite", blocker.path + "/catalog.sqlite: "),
            ("bazar-order", unreachable, "postgres://bazar:"),
        ] {
            let replica = try RunningCommand(
                Self.binDirectory + "/" + executable, ["--port", "\(FreePort.next())", "--database", url], environment: Self.tokens)
            let status = await replica.exitStatus(within: Self.exitLimit)
            #expect(status == 1, "\(executable): \(status.map(String.init) ?? "still running"); output:\n\(replica.output)")
            #expect(replica.output.contains("cannot open the database \(named)"), "\(replica.output)")
            #expect(!replica.output.contains("s3cret-pw") && !replica.output.contains("Assertion"), "\(replica.output)")
        }
    }

    @Test("a service without its tokens, or with a token file it cannot read, refuses to start with one line naming it")
    func tokensRequired() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("bazar-no-such-token-\(UUID().uuidString)").path
        for (environment, says) in [
            ([String: String](), "BAZAR_ADMIN_TOKEN is not set"),
            (["BAZAR_ADMIN_TOKEN": "a"], "BAZAR_INTERNAL_TOKEN is not set"),
            (["BAZAR_ADMIN_TOKEN_FILE": missing, "BAZAR_INTERNAL_TOKEN": "i"], "cannot read BAZAR_ADMIN_TOKEN_FILE=\(missing)"),
        ] {
            let front = try RunningCommand(
                Self.binDirectory + "/bazar-front", ["--port", "\(FreePort.next())"], environment: environment,
                unset: Set(Self.tokenVariables).subtracting(environment.keys))
            #expect(await front.exitStatus(within: Self.exitLimit) == 1, "\(front.output)")
            #expect(front.output.contains(says), "expected '\(says)' in: \(front.output)")
        }
    }

    static let tokenVariables = ["BAZAR_ADMIN_TOKEN", "BAZAR_INTERNAL_TOKEN", "BAZAR_ADMIN_TOKEN_FILE", "BAZAR_INTERNAL_TOKEN_FILE"]

    @Test("bazar up makes random tokens on first start, readable by the owner only, keeps them, and the admin routes need them")
    func upMakesTokens() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let front = FreePort.block(5)
        let secrets = directory.appendingPathComponent("secrets")
        var tokens: [String] = []
        for run in 1...2 {
            let up = try RunningCommand(
                Self.binDirectory + "/bazar", ["up", "--data-dir", directory.path, "--front-port", "\(front)"],
                environment: ["BAZAR_BIN_DIR": Self.binDirectory], unset: Set(Self.tokenVariables))
            defer { up.signal(SIGTERM) }  // bazar up stops its services on SIGTERM, at any stage
            try #require(await up.waitForOutput("Bazar is up", within: Self.readyLimit), "\(up.output)")
            let adminFile = secrets.appendingPathComponent("admin-token")
            #expect(up.output.contains("admin token: \(adminFile.path)"), "\(up.output)")
            let directoryMode = try FileManager.default.attributesOfItem(atPath: secrets.path)[.posixPermissions] as? Int
            #expect(directoryMode == 0o700, "secrets directory mode \(String(directoryMode ?? 0, radix: 8))")
            for name in ["admin-token", "internal-token"] {
                let mode = try FileManager.default.attributesOfItem(atPath: secrets.appendingPathComponent(name).path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(name) mode \(String(mode ?? 0, radix: 8))")
            }
            let token = try String(contentsOf: adminFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(token.count == 64, "a 256-bit token in hex: \(token)")
            tokens.append(token)
            let url = "http://127.0.0.1:\(front)/books/1/restock"
            let body = ByteBuffer(string: #"{"count": 1}"#)
            #expect(try await SystemCluster.client.send(.POST, url, body: body, timeout: .seconds(10)).status == 401)
            #expect(try await SystemCluster.client.send(.POST, url, body: body, headers: [("Authorization", "Bearer wrong")], timeout: .seconds(10)).status == 401)
            #expect(try await SystemCluster.client.send(
                .POST, url, body: body, headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(10)).status == 200)
            up.signal(SIGTERM)
            #expect(await up.exitStatus(within: Self.exitLimit) == 0, "run \(run): \(up.output)")
        }
        #expect(tokens.count == 2 && tokens[0] == tokens[1], "a restarted bazar up keeps its tokens")
    }

    @Test("bazar up refuses ports in use, names the process holding one, and starts nothing")
    func upRefusesBusyPorts() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let front = FreePort.block(5)
        let held = try ListeningSocket(port: front + 2)
        let up = try RunningCommand(
            Self.binDirectory + "/bazar", ["up", "--data-dir", directory.path, "--front-port", "\(front)"],
            environment: Self.tokens.merging(["BAZAR_BIN_DIR": Self.binDirectory]) { $1 })
        let status = await up.exitStatus(within: Self.exitLimit)
        #expect(status == 1, "\(up.output)")
        #expect(up.output.contains("port \(held.port) (catalog-2) is not free"), "\(up.output)")
        #expect(up.output.contains("held by pid \(getpid())"), "\(up.output)")
        #expect(!up.output.contains("Bazar is up"), "\(up.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("logs").path), "bazar up started something")
        withExtendedLifetime(held) {}
    }

    @Test("bazar up: a second one on the same ports is refused; a service that dies is reported, and the rest stopped")
    func upReportsDeath() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let front = FreePort.block(5)
        let environment = Self.tokens.merging(["BAZAR_BIN_DIR": Self.binDirectory]) { $1 }
        let up = try RunningCommand(
            Self.binDirectory + "/bazar", ["up", "--data-dir", directory.path, "--front-port", "\(front)"], environment: environment)
        defer { up.signal(SIGTERM) }
        try #require(await up.waitForOutput("Bazar is up", within: Self.readyLimit), "\(up.output)")

        let second = try RunningCommand(
            Self.binDirectory + "/bazar", ["up", "--data-dir", directory.path + "-second", "--front-port", "\(front)"], environment: environment)
        #expect(await second.exitStatus(within: Self.exitLimit) == 1, "\(second.output)")
        #expect(second.output.contains("port \(front) (front) is not free") && second.output.contains("bazar-front"), "\(second.output)")
        #expect(!second.output.contains("Bazar is up"), "\(second.output)")

        let pids = try ["front", "catalog-1", "catalog-2", "order-1", "order-2"].reduce(into: [String: Int32]()) { pids, name in
            let line = try String(contentsOf: directory.appendingPathComponent("pids/\(name)"), encoding: .utf8)
            pids[name] = Int32(line.split(separator: " ")[0])
        }
        kill(try #require(pids["catalog-1"]), SIGKILL)
        let status = await up.exitStatus(within: Self.exitLimit)
        #expect(status == 1, "\(up.output)")
        #expect(up.output.contains("error: catalog-1 exited"), "\(up.output)")
        for (name, pid) in pids where name != "catalog-1" {
            #expect(kill(pid, 0) != 0, "\(name) (pid \(pid)) still runs after bazar up ended")
        }
    }

    @Test("inside a checkout, bazar up builds the services from the sources before it starts them")
    func upBuildsFromCheckout() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A checkout: a Package.swift, and a .build/debug holding bazar and the services.
        let checkout = directory.appendingPathComponent("checkout")
        let products = checkout.appendingPathComponent(".build/debug")
        try FileManager.default.createDirectory(at: products, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: checkout.appendingPathComponent("Package.swift").path, contents: Data())
        // A hard link where it can be (a copy on another file system): a copy's file is open for
        // writing, and a process that another test forks meanwhile inherits that descriptor until
        // it execs, so starting the copy could fail with "Text file busy" (seen in CI).
        let copy = products.appendingPathComponent("bazar").path
        do { try FileManager.default.linkItem(atPath: Self.binDirectory + "/bazar", toPath: copy) } catch {
            try FileManager.default.copyItem(atPath: Self.binDirectory + "/bazar", toPath: copy)
        }
        for service in ["bazar-front", "bazar-catalog", "bazar-order"] {
            try FileManager.default.createSymbolicLink(atPath: products.appendingPathComponent(service).path, withDestinationPath: Self.binDirectory + "/" + service)
        }
        // A `swift` that records how it was called.
        let tools = directory.appendingPathComponent("tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        let calls = directory.appendingPathComponent("swift-calls")
        try "#!/bin/sh\necho \"$@\" >> \(calls.path)\n".write(to: tools.appendingPathComponent("swift"), atomically: true, encoding: .utf8)
        chmod(tools.appendingPathComponent("swift").path, 0o755)

        let front = FreePort.block(5)
        var environment = Self.tokens
        environment["PATH"] = tools.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let up = try RunningCommand(
            products.appendingPathComponent("bazar").path,
            ["up", "--data-dir", directory.appendingPathComponent("data").path, "--front-port", "\(front)"],
            environment: environment, unset: ["BAZAR_BIN_DIR"])
        defer { up.signal(SIGTERM) }  // bazar up stops its services on SIGTERM, at any stage
        try #require(await up.waitForOutput("Bazar is up", within: Self.readyLimit), "\(up.output)")
        let recorded = (try? String(contentsOf: calls, encoding: .utf8)) ?? ""
        for service in ["bazar-front", "bazar-catalog", "bazar-order"] {
            #expect(recorded.contains("build --package-path \(checkout.path) -c debug --product \(service)"), "swift was called: \(recorded)")
        }
        up.signal(SIGTERM)
        #expect(await up.exitStatus(within: Self.exitLimit) == 0, "\(up.output)")
        #expect(up.output.contains("stopped."), "\(up.output)")
    }
}

/// A socket listening on a loopback port for as long as it lives: a port someone else holds.
final class ListeningSocket: Sendable {
    let descriptor: Int32
    let port: Int

    init(port: Int? = nil) throws {
        let port = port ?? FreePort.next()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let bound = FreePort.withLoopback(port) { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot listen on port \(port)"])
        }
        descriptor = fd
        self.port = port
    }

    deinit { close(descriptor) }
}
