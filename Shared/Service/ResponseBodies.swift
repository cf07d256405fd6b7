import BazarModels
import Hummingbird

// The contract's answer bodies, returned by handlers as values and written by the request
// context's encoder. The models stay free of Hummingbird; the conformance lives at the edge.
extension Book: ResponseEncodable {}
extension BookInfo: ResponseEncodable {}
extension BookList: ResponseEncodable {}
extension SearchResult: ResponseEncodable {}
extension PurchaseReceipt: ResponseEncodable {}
extension Order: ResponseEncodable {}
extension OrderList: ResponseEncodable {}
extension CacheStats: ResponseEncodable {}
extension Liveness: ResponseEncodable {}
extension ReplicationAck: ResponseEncodable {}
extension ReplicationStatus: ResponseEncodable {}
extension VoteAnswer: ResponseEncodable {}
extension SubscriptionGrant: ResponseEncodable {}
