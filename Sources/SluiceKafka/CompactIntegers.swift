/// A column of 64-bit integers stored in 4 bytes each while they stay
/// within ±2³¹ of the first one (offsets and timestamps of one poll, byte
/// positions within it), in 8 bytes each once one does not.
@usableFromInline
struct CompactIntegers: Sendable {
    @usableFromInline var base: Int64 = 0
    @usableFromInline var narrow: [Int32] = []
    /// Set when a value did not fit: then every value is here.
    @usableFromInline var wide: [Int64]?

    init() {}

    @inlinable
    var count: Int { wide?.count ?? narrow.count }

    mutating func reserveCapacity(_ capacity: Int) {
        narrow.reserveCapacity(capacity)
    }

    mutating func append(_ value: Int64) {
        if wide != nil {
            wide?.append(value)
            return
        }
        if narrow.isEmpty { base = value }
        let (delta, overflow) = value.subtractingReportingOverflow(base)
        if !overflow, let small = Int32(exactly: delta) {
            narrow.append(small)
        } else {
            var all = narrow.map { base + Int64($0) }
            all.append(value)
            wide = all
            narrow = []
        }
    }

    @inlinable
    subscript(position: Int) -> Int64 {
        if let wide { return wide[position] }
        return base + Int64(narrow[position])
    }
}
