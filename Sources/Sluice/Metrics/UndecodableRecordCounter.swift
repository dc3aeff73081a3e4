import CoreMetrics

/// Counts records an input skipped because they could not be decoded (bad
/// UTF-8, …); published as `sluice_input_undecodable_records_total` with an
/// `input` dimension.
public final class UndecodableRecordCounter: Sendable {
    private let total = Locked<Int>(0)
    private let counter: Counter

    public init(input: String, factory: (any MetricsFactory)? = nil) {
        counter = Counter(
            label: "sluice_input_undecodable_records_total", dimensions: [("input", input)],
            factory: factory ?? MetricsSystem.factory)
    }

    /// Adds `count` skipped records.
    public func record(_ count: Int = 1) {
        guard count > 0 else { return }
        total.withLock { $0 += count }
        counter.increment(by: count)
    }

    /// Records skipped so far.
    public var count: Int { total.value }
}
