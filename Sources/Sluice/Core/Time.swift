/// A point on the batch timeline, in whole milliseconds (Spark's `Time`).
///
/// Batch `k` of a context runs at `zeroTime + k·interval`; its `Time` is what
/// `print` shows (`Time: 1000 ms`) and what `saveAsTextFiles` names folders by.
public struct Time: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Milliseconds since the clock's origin (the Unix epoch for the default clock).
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public static func < (lhs: Time, rhs: Time) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public static func + (lhs: Time, rhs: Duration) -> Time {
        Time(milliseconds: lhs.milliseconds + rhs.wholeMilliseconds)
    }

    public static func - (lhs: Time, rhs: Duration) -> Time {
        Time(milliseconds: lhs.milliseconds - rhs.wholeMilliseconds)
    }

    /// The duration between two times.
    public static func - (lhs: Time, rhs: Time) -> Duration {
        .milliseconds(lhs.milliseconds - rhs.milliseconds)
    }

    /// Spark's format: `1000 ms`.
    public var description: String { "\(milliseconds) ms" }
}

extension Duration {
    /// The duration in whole milliseconds, truncated toward zero.
    public var wholeMilliseconds: Int64 {
        let parts = components
        return parts.seconds &* 1000 &+ parts.attoseconds / 1_000_000_000_000_000
    }

    /// Whether the duration is a whole number of milliseconds.
    var isWholeMilliseconds: Bool {
        components.attoseconds % 1_000_000_000_000_000 == 0
    }

    /// The duration in seconds as a floating-point number.
    var secondsDouble: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
