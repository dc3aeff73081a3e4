/// The open windows of an event-time aggregation and its watermark: a pure
/// value, fed one batch at a time.
struct EventTimeState<K: Hashable & Sendable, V: Sendable, A: Sendable>: Sendable {
    let windows: EventTimeWindows
    let lateness: Int64
    let initial: A
    let add: @Sendable (A, V) -> A
    let merge: @Sendable (A, A) -> A

    /// Open windows per key (sessions: non-overlapping, sorted by start).
    private(set) var open: [K: [EventWindow: A]] = [:]
    /// The largest event time accepted so far.
    private(set) var maxEventTime: Int64?

    /// Records with an event time below it are late.
    var watermark: Int64? { maxEventTime.map { $0 - lateness } }

    struct BatchResult {
        var emitted: [WindowedValue<K, A>] = []
        var late: [(K, V)] = []
    }

    /// Adds a batch's records, advances the watermark, closes windows whose
    /// end it reached.
    mutating func process(_ records: [(K, V)], timestamp: (K, V) -> Int64, emit: EventTimeEmitMode) -> BatchResult {
        var result = BatchResult()
        let watermarkBefore = watermark
        var updated: [K: Set<EventWindow>] = [:]
        for (key, value) in records {
            let time = timestamp(key, value)
            if let watermarkBefore, time < watermarkBefore {
                result.late.append((key, value))
                continue
            }
            maxEventTime = max(maxEventTime ?? time, time)
            var keyWindows = open[key] ?? [:]
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
            open[key] = keyWindows
        }
        if let watermark {
            for (key, keyWindows) in open {
                var remaining = keyWindows
                for (window, value) in keyWindows.sorted(by: { $0.key < $1.key }) where window.end <= watermark {
                    result.emitted.append(WindowedValue(key: key, window: window, value: value, isFinal: true))
                    remaining[window] = nil
                    updated[key]?.remove(window)
                }
                open[key] = remaining.isEmpty ? nil : remaining
            }
        }
        if emit == .onEveryUpdate {
            for (key, changed) in updated {
                for window in changed.sorted() {
                    if let value = open[key]?[window] {
                        result.emitted.append(WindowedValue(key: key, window: window, value: value, isFinal: false))
                    }
                }
            }
        }
        return result
    }

    /// Windows still open, for tests and snapshots.
    var openWindowCount: Int { open.values.reduce(0) { $0 + $1.count } }
}
