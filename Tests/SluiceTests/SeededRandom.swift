/// SplitMix64: a small, fixed-seed generator so randomised cases are the
/// same on every run.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// `batches` batches of up to `maxSize` ints in `values`; about one batch
    /// in five is empty.
    mutating func intBatches(batches: ClosedRange<Int> = 1...5, maxSize: Int = 12, values: ClosedRange<Int> = -20...20) -> [[Int]] {
        (0..<int(batches)).map { _ in
            if int(0...4) == 0 { return [] }
            return (0..<int(0...maxSize)).map { _ in int(values) }
        }
    }

    /// Keyed batches with keys from a small alphabet so keys repeat and some
    /// appear on one side only.
    mutating func keyedBatches(batches: Int, maxSize: Int = 10, keys: String = "abcdefg") -> [[(String, Int)]] {
        let alphabet = keys.map(String.init)
        return (0..<batches).map { _ in
            if int(0...4) == 0 { return [] }
            return (0..<int(0...maxSize)).map { _ in
                (alphabet[int(0...(alphabet.count - 1))], int(-9...9))
            }
        }
    }
}

/// Sorted string forms, to compare outputs as multisets.
func multiset<T>(_ elements: [T]) -> [String] {
    elements.map { "\($0)" }.sorted()
}
