/// Keys in order of last use, with O(1) touch, insert, remove and "least recently used": a
/// doubly linked list threaded through an array of slots, indexed by a dictionary.
struct RecencyList<Key: Hashable & Sendable>: Sendable {
    private struct Slot: Sendable {
        var key: Key
        var newer: Int?
        var older: Int?
    }

    private var slots: [Slot] = []
    private var free: [Int] = []
    private var index: [Key: Int] = [:]
    private var newest: Int?
    private var oldest: Int?

    var count: Int { index.count }

    /// The least recently used key.
    var leastRecent: Key? { oldest.map { slots[$0].key } }

    /// Makes `key` the most recently used, adding it if new.
    mutating func touch(_ key: Key) {
        if let slot = index[key] {
            unlink(slot)
            link(slot)
            return
        }
        let slot: Int
        if let reused = free.popLast() {
            slots[reused] = Slot(key: key)
            slot = reused
        } else {
            slots.append(Slot(key: key))
            slot = slots.count - 1
        }
        index[key] = slot
        link(slot)
    }

    mutating func remove(_ key: Key) {
        guard let slot = index.removeValue(forKey: key) else { return }
        unlink(slot)
        free.append(slot)
    }

    mutating func removeAll() {
        self = RecencyList()
    }

    /// Keys from most to least recently used (for tests and debugging).
    var keysByRecency: [Key] {
        var keys: [Key] = []
        var cursor = newest
        while let slot = cursor {
            keys.append(slots[slot].key)
            cursor = slots[slot].older
        }
        return keys
    }

    private mutating func link(_ slot: Int) {
        slots[slot].newer = nil
        slots[slot].older = newest
        if let newest { slots[newest].newer = slot }
        newest = slot
        if oldest == nil { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let (newer, older) = (slots[slot].newer, slots[slot].older)
        if let newer { slots[newer].older = older } else { newest = older }
        if let older { slots[older].newer = newer } else { oldest = newer }
        slots[slot].newer = nil
        slots[slot].older = nil
    }
}
