extension DStream {
    /// Prints the first `count` elements of every batch in Spark's format:
    ///
    ///     -------------------------------------------
    ///     Time: 1000 ms
    ///     -------------------------------------------
    ///     (hello,2)
    ///     ...
    ///
    /// (`...` when the batch has more elements, then a blank line), written to
    /// `sink` as one block, or to the context's `printSink`.
    ///
    /// - Throws: `graphFrozen` after `start()`.
    public func print(_ count: Int = 10, to sink: (any TextSink)? = nil) throws {
        let target = sink ?? node.graph.printSink
        let limit = max(0, count)
        try foreachBatchOutput(name: "print") { batch, time, _ in
            var first: [Element] = []
            first.reserveCapacity(limit + 1)
            outer: for partition in batch.partitions {
                for element in partition.materialized().collect() {
                    if first.count > limit { break outer }
                    first.append(element)
                }
            }
            target.write(Self.printBlock(time: time, elements: first, limit: limit))
        }
    }

    static func printBlock(time: Time, elements: [Element], limit: Int) -> String {
        let dashes = "-------------------------------------------\n"
        var text = dashes + "Time: \(time)\n" + dashes
        for element in elements.prefix(limit) {
            text += SparkFormat.string(element) + "\n"
        }
        if elements.count > limit { text += "...\n" }
        text += "\n"
        return text
    }
}
