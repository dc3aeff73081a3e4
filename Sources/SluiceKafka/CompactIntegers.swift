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

    /// The column of these values: 4 bytes each if they all fit, else 8.
    init(_ values: UnsafeBufferPointer<Int64>) {
        guard let first = values.first else { return }
        base = first
        var fits = true
        for value in values {
            let (delta, overflow) = value.subtractingReportingOverflow(first)
            if overflow || delta < Int64(Int32.min) || delta > Int64(Int32.max) {
                fits = false
                break
            }
        }
        if fits {
            narrow = [Int32](unsafeUninitializedCapacity: values.count) { buffer, initialized in
                for index in values.indices { buffer[index] = Int32(truncatingIfNeeded: values[index] &- first) }
                initialized = values.count
            }
        } else {
            wide = Array(values)
        }
    }

    @inlinable
    var count: Int { wide?.count ?? narrow.count }

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
