/// How records are grouped by their own timestamps (event time), as in
/// Kafka Streams and Structured Streaming.
public enum EventTimeWindows: Sendable, Hashable {
    /// Fixed, non-overlapping windows `[k·size, (k+1)·size)`.
    case tumbling(Duration)
    /// Windows of `size` starting every `advance` from time 0; a record
    /// belongs to each window containing it (windows never start before 0,
    /// as in Kafka Streams).
    case hopping(size: Duration, advance: Duration)
    /// Per key, records less than `gap` apart form one window
    /// `[first, last + gap)`; a record that bridges two sessions merges them.
    case session(gap: Duration)

    /// The fixed windows containing `time` (none for sessions).
    func windows(containing time: Int64) -> [EventWindow] {
        switch self {
        case .tumbling(let size):
            let s = size.wholeMilliseconds
            let start = floorDiv(time, s) * s
            return [EventWindow(start: start, end: start + s)]
        case .hopping(let size, let advance):
            let s = size.wholeMilliseconds, a = advance.wholeMilliseconds
            var result: [EventWindow] = []
            var start = floorDiv(time, a) * a
            while start > time - s && start >= 0 {
                result.append(EventWindow(start: start, end: start + s))
                start -= a
            }
            return result.reversed()
        case .session:
            return []
        }
    }

    /// A readable problem with the durations, or nil.
    var problem: String? {
        switch self {
        case .tumbling(let size):
            return size.wholeMilliseconds > 0 ? nil : "tumbling window size \(size) must be at least 1 ms"
        case .hopping(let size, let advance):
            guard size.wholeMilliseconds > 0, advance.wholeMilliseconds > 0, advance <= size else {
                return "hopping windows need 0 < advance ≤ size (size \(size), advance \(advance))"
            }
            return nil
        case .session(let gap):
            return gap.wholeMilliseconds > 0 ? nil : "session gap \(gap) must be at least 1 ms"
        }
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// An event-time window `[start, end)` in milliseconds.
public struct EventWindow: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var start: Int64
    public var end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    public static func < (lhs: EventWindow, rhs: EventWindow) -> Bool {
        (lhs.start, lhs.end) < (rhs.start, rhs.end)
    }

    public var description: String { "[\(start), \(end))" }
}

/// When `aggregateByEventTime` outputs a window.
public enum EventTimeEmitMode: Sendable, Hashable {
    /// Once, when the watermark passes the window's end (final result).
    case onWindowClose
    /// Every batch that changed the window (`isFinal == false`), and once
    /// more when it closes (`isFinal == true`).
    case onEveryUpdate
}

/// One window's aggregate for one key.
public struct WindowedValue<Key: Sendable, Value: Sendable>: Sendable {
    public var key: Key
    public var window: EventWindow
    public var value: Value
    /// True when the window has closed and this is its last output.
    public var isFinal: Bool
}
