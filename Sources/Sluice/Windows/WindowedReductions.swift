extension DStream {
    /// The number of elements in each window, one element per window (0 for
    /// an empty window, like `count()`). Computed incrementally: per-batch
    /// counts, added when they enter the window and subtracted when they leave.
    public func countByWindow(_ length: Duration, slide: Duration? = nil) -> DStream<Int> {
        count().reduceByWindow(+, inverse: -, length, slide: slide)
    }

    /// Each window's elements combined with `combine` (associative and
    /// commutative); empty windows give nothing (Spark's `reduceByWindow`).
    public func reduceByWindow(
        _ combine: @escaping @Sendable (Element, Element) -> Element,
        _ length: Duration, slide: Duration? = nil
    ) -> DStream<Element> {
        reduce(combine).window(length, slide: slide).reduce(combine)
    }

    /// Like `reduceByWindow`, computed incrementally: the previous window's
    /// value, minus (`inverse`) the batches that left, plus those that
    /// entered. Equals plain recomputation when `inverse` undoes `combine`.
    public func reduceByWindow(
        _ combine: @escaping @Sendable (Element, Element) -> Element,
        inverse: @escaping @Sendable (Element, Element) -> Element,
        _ length: Duration, slide: Duration? = nil
    ) -> DStream<Element> {
        // One key; the element count rides along so an emptied window gives nothing.
        map { (0, ($0, 1)) }
            .reduceByKeyAndWindow(
                { (combine($0.0, $1.0), $0.1 + $1.1) },
                inverse: { (inverse($0.0, $1.0), $0.1 - $1.1) },
                length, slide: slide, partitions: 1,
                filter: { $0.1.1 > 0 })
            .map { $0.1.0 }
    }
}

extension DStream {
    /// `(key, combined values)` over each window (Spark's
    /// `reduceByKeyAndWindow` without an inverse): every batch is reduced by
    /// key, then each window's partial results are reduced again.
    public func reduceByKeyAndWindow<K: Hashable & Sendable, V: Sendable>(
        _ combine: @escaping @Sendable (V, V) -> V,
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil
    ) -> DStream<(K, V)> where Element == (K, V) {
        reduceByKey(combine, partitions: partitions)
            .window(length, slide: slide)
            .reduceByKey(combine, partitions: partitions)
    }

    /// `(key, values)` over each window, values in time order (Spark's `groupByKeyAndWindow`).
    public func groupByKeyAndWindow<K: Hashable & Sendable, V: Sendable>(
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil
    ) -> DStream<(K, [V])> where Element == (K, V) {
        window(length, slide: slide).groupByKey(partitions: partitions)
    }
}

extension DStream where Element: Hashable {
    /// `(value, occurrences)` over each window, computed incrementally;
    /// values whose count drops to 0 are removed (Spark's `countByValueAndWindow`).
    public func countByValueAndWindow(
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil
    ) -> DStream<(Element, Int)> {
        map { ($0, 1) }.reduceByKeyAndWindow(
            +, inverse: -, length, slide: slide, partitions: partitions, filter: { $0.1 != 0 })
    }
}
