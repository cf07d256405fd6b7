import BazarModels
import Foundation
import Testing

@Suite("Models")
struct ModelsTests {
    @Test("money keeps cents and refuses more than two decimals or negatives")
    func money() throws {
        #expect(Money(decimal: 19.99)?.cents == 1999)
        #expect(Money(decimal: 25)?.cents == 2500)
        #expect(Money(decimal: 0.1)?.cents == 10)
        #expect(Money(decimal: 12.555) == nil)
        #expect(Money(decimal: -1) == nil)
        #expect(Money(decimal: .nan) == nil)
        let encoded = String(decoding: try JSONEncoder().encode(Money(cents: 1999)), as: UTF8.self)
        #expect(encoded == "19.99")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Money.self, from: Data("1.001".utf8)) }
    }

    @Test("a book's public view drops the version; orders use the contract's keys")
    func wireShapes() throws {
        let book = Book(id: 1, title: "T", topic: "t", quantity: 2, price: Money(cents: 250), version: 9)
        let info = try JSONSerialization.jsonObject(with: BazarJSON.encoder().encode(BookInfo(book))) as! [String: Any]
        #expect(Set(info.keys) == ["id", "title", "topic", "quantity", "price"])
        let order = Order(orderID: "o", bookID: 1, title: "T", price: Money(cents: 250), createdAt: Date(timeIntervalSince1970: 1_800_000_000.125))
        let data = try BazarJSON.encoder().encode(order)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(Set(object.keys) == ["order_id", "book_id", "title", "price", "created_at"])
        #expect(object["created_at"] as? String == "2027-01-15T08:00:00.125Z")
        #expect(try BazarJSON.decoder().decode(Order.self, from: data) == order)
    }

    @Test("a push keeps every field on the wire, its lease grant included")
    func pushWireShape() throws {
        // A field left out of CodingKeys would be dropped silently (they are all optional).
        var batch = ReplicationBatch(leader: "catalog-1", term: 4, previousSeq: 9, previousTerm: 3, entries: [], number: 12,
                                     sentAt: 1_800_000_000_000, inSync: true, committedSeq: 8, shownSeq: 7, requestIDs: ["r"])
        batch.leaseMilliseconds = 640
        let data = try BazarJSON.encoder().encode(batch)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(object["lease_ms"] as? Int == 640)
        #expect(try BazarJSON.decoder().decode(ReplicationBatch.self, from: data) == batch)
    }

    @Test("order ids are UUIDv7, unique and sortable by creation time")
    func orderIDs() {
        let early = OrderID.make(at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = OrderID.make(at: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(early < late)
        #expect(early.count == 36)
        #expect(Array(early)[14] == "7")
        #expect(Set((0..<1000).map { _ in OrderID.make() }).count == 1000)
    }

    @Test("replica names parse and order by number")
    func replicaNames() {
        #expect(ReplicaName("catalog-2") == ReplicaName(service: "catalog", number: 2))
        #expect(ReplicaName("catalog") == nil)
        #expect(ReplicaName("catalog-0") == ReplicaName(service: "catalog", number: 0))
        #expect(ReplicaName("-1") == nil)
        #expect(ReplicaName("catalog-x") == nil)
        #expect(ReplicaName("catalog-1")! < ReplicaName("catalog-2")!)
        #expect(ReplicaName("order-10")!.description == "order-10")
    }

    @Test("error codes map to the contract's statuses")
    func errorCodes() {
        #expect(ErrorCode.outOfStock.status == 409)
        #expect(ErrorCode.methodNotAllowed.status == 405)
        #expect(ErrorCode.payloadTooLarge.status == 413)
        #expect(ErrorCode.invalidID.status == 400)
        #expect(ErrorCode.unavailable.status == 503)
    }

    @Test("topics match case-insensitively")
    func topics() {
        #expect(topicKey(" Distributed Systems ") == topicKey("distributed systems"))
        #expect(topicKey("\tgraduate school\n") == "graduate school")
    }

    @Test("text helpers: whitespace trimmed at both ends only, digits zero-padded")
    func textHelpers() {
        #expect("  a b \t".trimmingWhitespace() == "a b")
        #expect(" \n ".trimmingWhitespace() == "")
        #expect("ab"[...].trimmingWhitespace() == "ab")
        #expect(7.zeroPadded(3) == "007" && 1234.zeroPadded(2) == "1234" && 0.zeroPadded(2) == "00")
        #expect(UInt8(10).zeroPadded(2, radix: 16) == "0a" && UInt8(255).zeroPadded(2, radix: 16) == "ff")
        #expect(Money(cents: 505).description == "5.05" && Money(cents: 0).description == "0.00")
        #expect(Money(cents: 123_450).description == "1234.50")
    }
}

@Suite("Dates")
struct DateTests {
    @Test("RFC 3339 text survives any number of round trips")
    func stableRoundTrip() {
        for millis in [0, 1, 122, 123, 999] {
            let text = "2026-11-22T18:20:31.\(String(format: "%03d", millis))Z"
            var current = text
            for _ in 0..<5 { current = BazarJSON.rfc3339(BazarJSON.parseRFC3339(current)!) }
            #expect(current == text)
        }
    }

    @Test("dates before 1970 and late in a year format with every field padded")
    func formatting() {
        #expect(BazarJSON.rfc3339(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(BazarJSON.rfc3339(Date(timeIntervalSince1970: 1_798_761_599.009)) == "2026-12-31T23:59:59.009Z")
        #expect(BazarJSON.rfc3339(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }
}
