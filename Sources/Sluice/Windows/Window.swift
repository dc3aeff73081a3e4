extension DStream {
    /// All elements of the batches in the window `(t − length, t]`, every
    /// `slide` (Spark's `window`). Length and slide must be multiples of
    /// this stream's slide (checked at `start()`); `slide` defaults to it.
    /// The window's batches are computed once and remembered while a window
    /// may still need them. For elements that are not `Codable` they are
    /// kept in memory only, so a restart would lose the batches before it:
    /// an exactly-once output (`saveExactlyOnce`) reading such a window
    /// throws at registration. With `Codable` elements the window's batches
    /// are stored state (see the `Codable` overload), as are the
    /// incremental reductions' (`reduceByKeyAndWindow`, `countByWindow` …).
    public func window(_ length: Duration, slide: Duration? = nil) -> DStream<Element> {
        window(length, slide: slide, operator: "window")
    }

    /// `window(_:slide:)` on behalf of `operator` (the name an exactly-once
    /// output's error gives, e.g. `groupByKeyAndWindow`).
    func window(_ length: Duration, slide: Duration?, operator: String) -> DStream<Element> {
        let parent = persist()
        let windowSlide = slide ?? slideDuration
        let parentSlide = parent.slideDuration
        let stream = DStream(
            name: `operator`, graph: node.graph, slideDuration: windowSlide, parents: [parent.node],
            parentRememberExtra: max(.zero, length - node.graph.batchInterval),
            validate: { _ in windowValidation(length: length, slide: windowSlide, parentSlide: parentSlide) }
        ) { time in
            try await Batch(partitions: parent.batches(in: time - length, time).flatMap(\.partitions))
        }
        node.graph.stateRegistry.registerMemoryOnlyWindow(nodeID: stream.node.id, operator: `operator`)
        return stream
    }

    /// This stream's remembered or computed batches with time in `(after, through]`, oldest first.
    func batches(in after: Time, _ through: Time) async throws -> [Batch<Element>] {
        try await timedBatches(in: after, through).map(\.1)
    }

    /// Like `batches(in:_:)`, with each batch's time.
    @usableFromInline
    func timedBatches(in after: Time, _ through: Time) async throws -> [(Time, Batch<Element>)] {
        guard let zero = node.graph.zeroTime else { return [] }
        // The first time on this stream's grid after `after` (times before
        // this run's first batch have no batch).
        var time = BatchGrid.firstTime(after: after, origin: zero, step: slideDuration)
        var result: [(Time, Batch<Element>)] = []
        while time <= through {
            if let batch = try await batch(at: time) { result.append((time, batch)) }
            time = time + slideDuration
        }
        return result
    }
}

/// The start-up check of a window: both durations positive multiples of the
/// parent's slide.
@usableFromInline
func windowValidation(length: Duration, slide: Duration, parentSlide: Duration) -> String? {
    let l = length.wholeMilliseconds, s = slide.wholeMilliseconds, p = parentSlide.wholeMilliseconds
    guard length.isWholeMilliseconds, slide.isWholeMilliseconds, l > 0, s > 0, p > 0, l % p == 0, s % p == 0 else {
        return "window length \(length) and slide \(slide) must both be positive multiples of the parent stream's slide \(parentSlide) (the batch interval unless windowed before); e.g. length .seconds(30), slide .seconds(10) with a 1 s batch interval"
    }
    return nil
}
