/// An open-addressing hash table from `UInt64` keys to `UInt64` values with a multiplicative
/// hash: the trie transitions and BPE merge lookups of the hot encoding loop, which Swift's
/// `Dictionary` (SipHash per lookup) made the largest cost. Insert-only; built once, then read.
struct IntegerHashTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var occupied: [Bool]
    private var shift: UInt64
    private(set) var count = 0

    init(minimumCapacity: Int = 16) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        keys = Array(repeating: 0, count: capacity)
        values = Array(repeating: 0, count: capacity)
        occupied = Array(repeating: false, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    @inline(__always)
    func value(for key: UInt64) -> UInt64? {
        let mask = keys.count - 1
        var i = slot(key)
        while occupied[i] {
            if keys[i] == key { return values[i] }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Sets the value of `key`, replacing any earlier one.
    mutating func set(_ value: UInt64, for key: UInt64) {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var i = slot(key)
        while occupied[i] {
            if keys[i] == key { values[i] = value; return }
            i = (i + 1) & mask
        }
        occupied[i] = true
        keys[i] = key
        values[i] = value
        count += 1
    }

    private mutating func grow() {
        var bigger = IntegerHashTable(minimumCapacity: keys.count)
        for i in keys.indices where occupied[i] { bigger.set(values[i], for: keys[i]) }
        self = bigger
    }
}
