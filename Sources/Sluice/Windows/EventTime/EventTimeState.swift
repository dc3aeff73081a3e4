/// The open windows of one key, as stored (Codable, so an exactly-once
/// output can commit and restore them).
public struct EventKeyWindows<A: Sendable & Codable>: Sendable, Codable {
    public var windows: [EventWindow: A]

    public init(windows: [EventWindow: A] = [:]) {
        self.windows = windows
    }
}

/// How an event-time aggregation folds a batch into the open windows and
/// advances the watermark: a pure function of its inputs.
struct EventTimeAggregation<K: Hashable & Sendable, V: Sendable, A: Sendable & Codable>: Sendable {
    let windows: EventTimeWindows
    let lateness: Int64
    let initial: A
    let add: @Sendable (A, V) -> A
    let merge: @Sendable (A, A) -> A

    struct BatchResult {
        var emitted: [WindowedValue<K, A>] = []
        var late: [(K, V)] = []
        /// Keys whose stored windows changed.
        var written: [K] = []
    }

    /// Adds a batch's records to `open`, advances `maxEventTime`, and closes
    /// the windows whose end the new watermark (`maxEventTime − lateness`) reached.
    func process(
        _ records: [(K, V)], timestamp: (K, V) -> Int64, emit: EventTimeEmitMode,
        open: inout [K: EventKeyWindows<A>], maxEventTime: inout Int64?
    ) -> BatchResult {
        var result = BatchResult()
        let watermarkBefore = maxEventTime.map { $0 - lateness }
        var updated: [K: Set<EventWindow>] = [:]
        for (key, value) in records {
            let time = timestamp(key, value)
            if let watermarkBefore, time < watermarkBefore {
                result.late.append((key, value))
                continue
            }
            maxEventTime = max(maxEventTime ?? time, time)
            var keyWindows = open[key]?.windows ?? [:]
            if case .session(let gap) = windows {
                var window = EventWindow(start: time, end: time + gap.wholeMilliseconds)
                var aggregate = add(initial, value)
                for (other, otherValue) in keyWindows where other.start < window.end && window.start < other.end {
                    keyWindows[other] = nil
                    updated[key]?.remove(other)
                    window = EventWindow(start: min(window.start, other.start), end: max(window.end, other.end))
                    aggregate = other.start <= time ? merge(otherValue, aggregate) : merge(aggregate, otherValue)
                }
                keyWindows[window] = aggregate
                updated[key, default: []].insert(window)
            } else {
                for window in windows.windows(containing: time) {
                    keyWindows[window] = add(keyWindows[window] ?? initial, value)
                    updated[key, default: []].insert(window)
                }
            }
            open[key] = EventKeyWindows(windows: keyWindows)
        }
        result.written = Array(updated.keys)
        if let watermark = maxEventTime.map({ $0 - lateness }) {
            for (key, keyWindows) in open {
                var remaining = keyWindows.windows
                var closed = false
                for (window, value) in keyWindows.windows.sorted(by: { $0.key < $1.key }) where window.end <= watermark {
                    result.emitted.append(WindowedValue(key: key, window: window, value: value, isFinal: true))
                    remaining[window] = nil
                    updated[key]?.remove(window)
                    closed = true
                }
                guard closed else { continue }
                open[key] = remaining.isEmpty ? nil : EventKeyWindows(windows: remaining)
                if updated[key] == nil { result.written.append(key) }
            }
        }
        if emit == .onEveryUpdate {
            for (key, changed) in updated {
                for window in changed.sorted() {
                    if let value = open[key]?.windows[window] {
                        result.emitted.append(WindowedValue(key: key, window: window, value: value, isFinal: false))
                    }
                }
            }
        }
        return result
    }
}
