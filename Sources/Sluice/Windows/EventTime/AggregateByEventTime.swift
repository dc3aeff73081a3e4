import CoreMetrics

extension DStream {
    /// Aggregates `(key, value)` records per key in event-time windows taken
    /// from the records' own timestamps (beyond Spark's DStreams; Kafka
    /// Streams' windowed aggregations).
    ///
    /// The watermark is the largest event time seen so far minus
    /// `allowedLateness`; it advances after each batch. A record whose time
    /// is below the watermark of the batch it arrives in is late: it is not
    /// aggregated but counted (`sluice_late_records_total`) and sent to the
    /// `late` stream. A window is output when the watermark reaches its end
    /// (and, with `.onEveryUpdate`, each batch that changed it); its state
    /// is then freed.
    ///
    /// - Parameters:
    ///   - timestamp: the record's event time.
    ///   - windows: tumbling, hopping or session windows.
    ///   - initial, add: fold a window's values, starting from `initial`.
    ///   - merge: combine two partial aggregates (session merges). Default
    ///     for counts and sums: `+`.
    ///   - name: a stable name for the stored state. Default: `eventTimeWindows#n`.
    ///
    /// The open windows and the largest event time are kept in two
    /// ``KeyedState``s (`name` and `name.maxEventTime`), committed and
    /// restored by an exactly-once output.
    public func aggregateByEventTime<K: Hashable & Sendable & Codable, V: Sendable, A: Sendable & Codable>(
        name: String? = nil,
        timestamp: @escaping @Sendable (K, V) -> Time,
        windows: EventTimeWindows,
        allowedLateness: Duration = .zero,
        emit: EventTimeEmitMode = .onWindowClose,
        initial: A,
        add: @escaping @Sendable (A, V) -> A,
        merge: @escaping @Sendable (A, A) -> A
    ) -> (results: DStream<WindowedValue<K, A>>, late: DStream<(K, V)>) where Element == (K, V) {
        let aggregation = EventTimeAggregation<K, V, A>(
            windows: windows, lateness: allowedLateness.wholeMilliseconds,
            initial: initial, add: add, merge: merge)
        let registry = node.graph.stateRegistry
        // Under tasks, each task has its windows and its own largest event
        // time (so its own watermark), as Kafka Streams' stream time per task.
        let state = KeyedState<K, EventKeyWindows<A>>(name: name ?? registry.nextName(kind: "eventTimeWindows"), shards: 1, supportsTasks: true)
        let eventClock = KeyedState<String, Int64>(name: "\(state.name).maxEventTime", shards: 1, supportsTasks: true)
        let lates = node.graph.perTaskValues.make { Locked<(time: Time, records: [(K, V)])?>(nil) }
        let lateCounter = Counter(label: "sluice_late_records_total", factory: MetricsSystem.factory)
        let parallelism = defaultParallelism
        let parent = self
        let results = DStream<WindowedValue<K, A>>(
            name: "aggregateByEventTime", graph: node.graph, slideDuration: slideDuration, parents: [node],
            validate: { _ in
                if let problem = windows.problem { return problem }
                return allowedLateness < .zero ? "allowedLateness \(allowedLateness) must not be negative" : nil
            }
        ) { time in
            let records = try await parent.batch(at: time)?.materialized().collect() ?? []
            let before = eventClock.store.get("maxEventTime")
            var maxEventTime = before
            let result = state.store.update { open in
                let result = aggregation.process(
                    records, timestamp: { timestamp($0, $1).milliseconds }, emit: emit,
                    open: &open, maxEventTime: &maxEventTime)
                return (result: result, written: result.written)
            }
            if let maxEventTime, maxEventTime != before {
                eventClock.store.put("maxEventTime", maxEventTime)
            }
            lates.current.withLock { $0 = (time, result.late) }
            if !result.late.isEmpty { lateCounter.increment(by: result.late.count) }
            return Batch(result.emitted, partitionCount: parallelism)
        }
        registry.register(nodeID: results.node.id, state)
        registry.register(nodeID: results.node.id, eventClock)
        let late: DStream<(K, V)> = results.derived("lateRecords") { _, time in
            let records = lates.current.withLock { last in last?.time == time ? last?.records : nil }
            return Batch(records ?? [])
        }
        return (results, late)
    }

    /// Counts records per key in event-time windows; see
    /// `aggregateByEventTime`.
    public func countByEventTime<K: Hashable & Sendable & Codable, V: Sendable>(
        name: String? = nil,
        timestamp: @escaping @Sendable (K, V) -> Time,
        windows: EventTimeWindows,
        allowedLateness: Duration = .zero,
        emit: EventTimeEmitMode = .onWindowClose
    ) -> (results: DStream<WindowedValue<K, Int>>, late: DStream<(K, V)>) where Element == (K, V) {
        aggregateByEventTime(
            name: name, timestamp: timestamp, windows: windows, allowedLateness: allowedLateness, emit: emit,
            initial: 0, add: { count, _ in count + 1 }, merge: +)
    }
}
