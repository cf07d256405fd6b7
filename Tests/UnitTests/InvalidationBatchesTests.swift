import BazarModels
import Testing
@testable import CatalogService

/// The catalog leader's invalidation batches: one delivery at a time, every writer answered only
/// after a delivery that carried its book, and each book once per batch at its newest version.
@Suite("Invalidation batches")
struct InvalidationBatchesTests {
    static func book(_ id: Int, version: Int) -> Book {
        Book(id: id, title: "Book \(id)", topic: "t", quantity: 1, price: Money(cents: 100), version: version)
    }

    /// What the deliveries did, as the test's fake front end saw it.
    actor Deliveries {
        var newest: [Int: Int] = [:]
        var count = 0
        var inFlight = 0
        var overlapped = false

        func begin() {
            inFlight += 1
            if inFlight > 1 { overlapped = true }
        }

        func end(_ books: [Book]) {
            for book in books { newest[book.id] = max(newest[book.id] ?? -1, book.version) }
            count += 1
            inFlight -= 1
        }

        func version(of book: Int) -> Int { newest[book] ?? -1 }
    }

    @Test("concurrent writers: one delivery at a time, each book delivered before its writer returns")
    func concurrentWriters() async {
        let batches = InvalidationBatches()
        let deliveries = Deliveries()
        await withDiscardingTaskGroup { tasks in
            for writer in 0..<60 {
                tasks.addTask {
                    let book = Self.book(writer % 7 + 1, version: writer)
                    if case .send(let books, _) = await batches.join(book) {
                        await deliveries.begin()
                        try? await Task.sleep(for: .milliseconds(2))
                        await deliveries.end(books)
                        await batches.delivered()
                    }
                    // Answered only once a delivery carried this book (at this version or newer).
                    #expect(await deliveries.version(of: book.id) >= book.version)
                }
            }
        }
        #expect(!(await deliveries.overlapped))
        // Sixty writers, far fewer deliveries: those that came while one was under way shared the next.
        #expect(await deliveries.count < 60)
    }

    @Test("a batch names each book once, at its newest version")
    func newestVersion() {
        let books = InvalidationBatches.latest([Self.book(2, version: 5), Self.book(1, version: 3), Self.book(2, version: 7), Self.book(2, version: 6)])
        #expect(books.map(\.id) == [1, 2])
        #expect(books.map(\.version) == [3, 7])
    }
}
