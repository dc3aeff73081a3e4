#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Draws ranks `0..<count` with probability ∝ 1 / (rank + 1)^exponent, the
/// shape of word frequencies in text.
public struct ZipfDistribution: Sendable {
    private let cumulative: [Double]

    public init(count: Int, exponent: Double = 1.0) {
        precondition(count > 0, "a Zipf distribution needs at least one rank")
        var sums: [Double] = []
        sums.reserveCapacity(count)
        var total = 0.0
        for rank in 1...count {
            total += 1.0 / pow(Double(rank), exponent)
            sums.append(total)
        }
        cumulative = sums.map { $0 / total }
    }

    public var count: Int { cumulative.count }

    /// The next rank (0 is the most frequent).
    public func sample(_ random: inout SeededGenerator) -> Int {
        let u = random.unit()
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] < u { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
