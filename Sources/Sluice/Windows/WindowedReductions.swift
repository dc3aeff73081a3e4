extension DStream {
    /// The number of elements in each window, one element per window (0 for
    /// an empty window, like `count()`). Computed incrementally: per-batch
    /// counts, added when they enter the window and subtracted when they leave.
    public func countByWindow(_ length: Duration, slide: Duration? = nil, name: String? = nil) -> DStream<Int> {
        count().reduceByWindow(+, inverse: -, length, slide: slide, name: name)
    }

    /// Each window's elements combined with `combine` (associative and
    /// commutative); empty windows give nothing (Spark's `reduceByWindow`).
    /// For elements that are not `Codable` its window is kept in memory
    /// only, so exactly-once outputs refuse it (see `window(_:slide:)`).
    public func reduceByWindow(
        _ combine: @escaping @Sendable (Element, Element) -> Element,
        _ length: Duration, slide: Duration? = nil
    ) -> DStream<Element> {
        reduce(combine).window(length, slide: slide, operator: "reduceByWindow").reduce(combine)
    }

}

extension DStream where Element: Codable {
    /// Like `reduceByWindow`, computed incrementally: the previous window's
    /// value, minus (`inverse`) the batches that left, plus those that
    /// entered. Equals plain recomputation when `inverse` undoes `combine`.
    /// State-backed (see `reduceByKeyAndWindow(_:inverse:…)`).
    public func reduceByWindow(
        _ combine: @escaping @Sendable (Element, Element) -> Element,
        inverse: @escaping @Sendable (Element, Element) -> Element,
        _ length: Duration, slide: Duration? = nil, name: String? = nil
    ) -> DStream<Element> {
        // One key; the element count rides along so an emptied window gives nothing.
        map { (0, CountedValue(value: $0, count: 1)) }
            .reduceByKeyAndWindow(
                { CountedValue(value: combine($0.value, $1.value), count: $0.count + $1.count) },
                inverse: { CountedValue(value: inverse($0.value, $1.value), count: $0.count - $1.count) },
                length, slide: slide, partitions: 1,
                filter: { $0.1.count > 0 }, name: name)
            .map { $0.1.value }
    }
}

/// A value with the number of elements folded into it.
public struct CountedValue<Value: Sendable & Codable>: Sendable, Codable {
    public var value: Value
    public var count: Int
}

extension DStream {
    /// `(key, values)` over each window, values in time order (Spark's `groupByKeyAndWindow`).
    /// For keys or values that are not `Codable` its window is kept in
    /// memory only, so exactly-once outputs refuse it (see `window(_:slide:)`).
    public func groupByKeyAndWindow<K: Hashable & Sendable, V: Sendable>(
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil
    ) -> DStream<(K, [V])> where Element == (K, V) {
        window(length, slide: slide, operator: "groupByKeyAndWindow").groupByKey(partitions: partitions)
    }
}

extension DStream where Element: Hashable & Codable {
    /// `(value, occurrences)` over each window, computed incrementally;
    /// values whose count drops to 0 are removed (Spark's `countByValueAndWindow`).
    public func countByValueAndWindow(
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil, name: String? = nil
    ) -> DStream<(Element, Int)> {
        map { ($0, 1) }.reduceByKeyAndWindow(
            +, inverse: -, length, slide: slide, partitions: partitions, filter: { $0.1 != 0 }, name: name)
    }
}
