import BazarModels
import BazarService
import Foundation

/// Concurrent clients that mix reads, searches, purchases and restocks over all seven books
/// through the front ends (each request to one chosen at random, so that a read may follow a
/// write through another front end: G3 across them), and one reader that asks the catalog
/// replicas directly. Purchases carry an Idempotency-Key and are retried with it until they get
/// an answer, as a careful client does.
struct Workload: Sendable {
    let fronts: [(name: String, url: String)]
    let catalogReplicas: [String: String]
    let client: BackendClient
    let history: History
    let adminToken: String
    let clients: Int
    static let books = Array(1...7)
    static let topics = ["distributed systems", "undergraduate school"]

    func run(for duration: Duration) async {
        let end = ContinuousClock.now + duration
        await withTaskGroup(of: Void.self) { group in
            for id in 0..<clients {
                group.addTask { await runClient(id, until: end) }
            }
            group.addTask { await readReplicasDirectly(until: end) }
        }
    }

    func runClient(_ id: Int, until end: ContinuousClock.Instant) async {
        var generator = SystemRandomNumberGenerator()
        var count = 0
        while ContinuousClock.now < end {
            count += 1
            let book = Self.books.randomElement(using: &generator)!
            let roll = Int.random(in: 0..<100, using: &generator)
            switch roll {
            case 0..<50: await info(id, book)
            case 50..<62: await search(id)
            case 62..<95: await purchase(id, book, key: "c\(id)-\(count)-\(UUID().uuidString.prefix(8))", until: end + .seconds(15))
            default: await restock(id, book)
            }
        }
    }

    /// The front end of one request.
    func anyFront() -> (name: String, url: String) { fronts.randomElement()! }

    func info(_ id: Int, _ book: Int) async {
        let start = ContinuousClock.now, front = anyFront()
        let reply = try? await client.send(.GET, front.url + "/info/\(book)", timeout: .seconds(10))
        history.record(.init(
            client: id, operation: .info, book: book, start: start, end: .now, status: reply?.status,
            version: reply?.headers.first(name: "X-Book-Version").flatMap(Int.init),
            quantity: reply.flatMap { try? $0.decode(BookInfo.self) }?.quantity,
            replica: reply.map { "\($0.headers.first(name: "X-Served-By") ?? "?") (cache \($0.headers.first(name: "X-Cache") ?? "?") at \(front.name))" },
            front: front.name))
    }

    func search(_ id: Int) async {
        let start = ContinuousClock.now
        let topic = Self.topics.randomElement()!.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!
        let reply = try? await client.send(.GET, anyFront().url + "/search/\(topic)", timeout: .seconds(10))
        history.record(.init(client: id, operation: .search, book: 0, start: start, end: .now, status: reply?.status))
    }

    /// One purchase; a request that gets no answer or a 5xx is retried with the same key.
    func purchase(_ id: Int, _ book: Int, key: String, until giveUp: ContinuousClock.Instant) async {
        while true {
            let start = ContinuousClock.now
            let reply = try? await client.send(.POST, anyFront().url + "/purchase/\(book)", headers: [("Idempotency-Key", key)], timeout: .seconds(15))
            history.record(.init(
                client: id, operation: .purchase, book: book, start: start, end: .now, status: reply?.status,
                version: reply?.headers.first(name: "X-Book-Version").flatMap(Int.init),
                orderID: reply.flatMap { try? $0.decode(Order.self) }?.orderID, idempotencyKey: key))
            if let status = reply?.status, status < 500 { return }
            guard ContinuousClock.now < giveUp else { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    func restock(_ id: Int, _ book: Int) async {
        let start = ContinuousClock.now
        let reply = try? await client.send(.POST, anyFront().url + "/books/\(book)/restock", body: ByteBuffer(string: #"{"count": 3}"#),
                                           headers: [("Authorization", "Bearer \(adminToken)")], timeout: .seconds(10))
        let record = reply.flatMap { try? $0.decode(Book.self) }
        history.record(.init(client: id, operation: .restock, book: book, start: start, end: .now, status: reply?.status,
                             version: record?.version, quantity: record?.quantity))
    }

    /// Reads every book from every catalog replica directly: a replica that serves a read must
    /// not be behind (G6).
    func readReplicasDirectly(until end: ContinuousClock.Instant) async {
        while ContinuousClock.now < end {
            for (name, url) in catalogReplicas {
                let book = Self.books.randomElement()!
                let start = ContinuousClock.now
                guard let reply = try? await client.send(.GET, url + "/books/\(book)", timeout: .seconds(2)) else { continue }
                let record = try? reply.decode(Book.self)
                history.record(.init(client: -1, operation: .directRead, book: book, start: start, end: .now, status: reply.status,
                                     version: record?.version, quantity: record?.quantity, replica: name))
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

import NIOCore
