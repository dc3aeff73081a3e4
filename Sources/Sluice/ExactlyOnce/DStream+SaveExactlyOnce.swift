import Logging

/// One table an exactly-once output writes: a stream and how each of its
/// elements becomes a row (in `table.columns` order).
public struct ExactlyOnceTable: Sendable {
    let node: StreamNode
    let table: ResultTable
    let rows: @Sendable (Time) async throws -> [[ResultValue]]

    public init<T: Sendable>(_ stream: DStream<T>, table: ResultTable, row: @escaping @Sendable (T) -> [ResultValue]) {
        self.node = stream.node
        self.table = table
        self.rows = { time in
            // A stream off its slide grid this batch (a window) writes nothing.
            guard let batch = try await stream.batch(at: time) else { return [] }
            return await batch.materialized().collect().map(row)
        }
    }
}

extension StreamingContext {
    /// Writes every batch of several streams to `store` exactly once, in one
    /// transaction per batch: each table's rows, the until-offsets of every
    /// input range, the state changes of every stateful operator upstream,
    /// the dead letters and the batch time. Kill the process at any moment,
    /// start the same job again, and the store ends as after an
    /// uninterrupted run.
    ///
    /// Recovery happens here, before `start()`: the store's offsets become
    /// the inputs' start positions (the consumer group's offsets are then
    /// only advisory), the stored state is restored into the stateful
    /// operators, and the job's batch grid (the zero time of its first run,
    /// stored as the state `sluice.batchGrid`) becomes this run's, so that
    /// windows sliding by more than one batch output at the times an
    /// uninterrupted run would (a changed batch interval continues on that
    /// grid). A stored state whose encoding differs from the operator's (its
    /// types changed) throws, naming the operator.
    ///
    /// - Parameter job: the job's name; it keys offsets and state in the store.
    /// The job runs in one process at a time: starting it claims it in the
    /// store (``ExactlyOnceStore/claim(job:owner:)``), and a process that
    /// held it before is fenced — its next commit fails with
    /// ``StreamingError/Code/fenced`` and its context stops — so two
    /// processes of one job never both commit.
    ///
    /// - Throws: when an input cannot replay (a socket), when the context
    ///   already has an exactly-once output, or when recovery fails.
    public func saveExactlyOnce(to store: any ExactlyOnceStore, job: String, tables: [ExactlyOnceTable]) async throws {
        try await ExactlyOnceOutput.register(graph: graph, store: store, job: job, tables: tables)
    }
}

extension DStream {
    /// Writes every batch's rows to `store` exactly once; see
    /// ``StreamingContext/saveExactlyOnce(to:job:tables:)``, of which this is
    /// the one-table form.
    ///
    /// - Parameter row: the table row of one element, in `table.columns` order.
    public func saveExactlyOnce(
        to store: any ExactlyOnceStore,
        job: String,
        table: ResultTable,
        row: @escaping @Sendable (Element) -> [ResultValue]
    ) async throws {
        try await ExactlyOnceOutput.register(
            graph: node.graph, store: store, job: job, tables: [ExactlyOnceTable(self, table: table, row: row)])
    }

    /// ``saveExactlyOnce(to:job:table:row:)`` for key–value pairs, upserted
    /// by key into `table(keyColumn PRIMARY KEY, valueColumn)` — running
    /// totals, for example.
    public func saveExactlyOnce<K: ResultValueConvertible, V: ResultValueConvertible>(
        to store: any ExactlyOnceStore,
        job: String,
        table: String,
        keyColumn: String = "key",
        valueColumn: String = "value"
    ) async throws where Element == (K, V) {
        let spec = ResultTable(
            name: table,
            columns: [ResultColumn(keyColumn, K.resultColumnType), ResultColumn(valueColumn, V.resultColumnType)],
            mode: .upsert(key: [keyColumn]))
        try await saveExactlyOnce(to: store, job: job, table: spec) { [$0.0.resultValue, $0.1.resultValue] }
    }
}

/// Recovery and the per-batch commit of an exactly-once output.
enum ExactlyOnceOutput {
    static func register(graph: StreamGraph, store: any ExactlyOnceStore, job: String, tables: [ExactlyOnceTable]) async throws {
        guard !job.isEmpty else {
            throw StreamingError(code: .invalidArgument, message: "an exactly-once output needs a job name")
        }
        guard let first = tables.first else {
            throw StreamingError(code: .invalidArgument, message: "exactly-once output of job '\(job)' writes no table")
        }
        for table in tables { try table.table.validate() }
        if Set(tables.map(\.table.name)).count != tables.count {
            throw StreamingError(code: .invalidArgument, message: "exactly-once output of job '\(job)' names a table twice")
        }
        guard tables.allSatisfy({ $0.node.graph === graph }) else {
            throw StreamingError(
                code: .foreignStream,
                message: "exactly-once output of job '\(job)' writes streams of another StreamingContext; build every stream of a job from the same context")
        }
        let lineage = tables.flatMap { $0.node.lineage() }
        if let window = graph.stateRegistry.memoryOnlyWindows(ofNodes: Set(lineage.map(\.id))).first {
            throw StreamingError(
                code: .invalidArgument,
                message: "exactly-once output of job '\(job)' reads \(window.operator) over elements that are not Codable, so its window keeps "
                    + "its batches in memory only and a restart would silently lose the window's contents from before it; make the elements "
                    + "(or keys and values) Codable so the window is stored with the state, use an incremental form "
                    + "(reduceByKeyAndWindow with or without inverse:, reduceByWindow(_:inverse:…), countByWindow, countByValueAndWindow), "
                    + "or an at-least-once output such as foreachBatch")
        }
        let inputIDs = Set(lineage.compactMap(\.inputID))
        let inputs = graph.inputs.filter { inputIDs.contains($0.id) }
        if let unreplayable = inputs.first(where: { !$0.supportsReplay }) {
            throw StreamingError(
                code: .invalidArgument,
                message: "exactly-once output of job '\(job)' reads '\(unreplayable.name)', which cannot replay a batch after a crash; "
                    + "read from Kafka (kafkaDirectStream), or use an at-least-once output such as foreachBatch")
        }
        try graph.stateRegistry.claimExactlyOnce(job: job)
        if inputs.contains(where: graph.partitionsAreTasks) {
            return try await registerTasks(graph: graph, store: store, job: job, tables: tables, lineage: lineage, inputs: inputs)
        }

        let states = graph.stateRegistry.states(ofNodes: Set(lineage.map(\.id)))
        if states.contains(where: { $0.name == StoredBatchGrid.operatorName }) {
            throw StreamingError(
                code: .invalidArgument,
                message: "job '\(job)': the operator name '\(StoredBatchGrid.operatorName)' is reserved for the job's batch grid; name the operator otherwise")
        }
        // Claimed first: a process still running the job is fenced from
        // here on, so what recovery reads next is what it committed last.
        let claim = try await store.claim(job: job, owner: .thisProcess)
        graph.logger.info("job '\(job)': claimed in \(store.description)\(claim.epoch.map { " (claim \($0))" } ?? "")\(claim.previousOwner.map { ", held before by \($0)" } ?? "")")
        let recovered = try await store.recover(job: job, tables: tables.map(\.table))
        if let state = states.first(where: { state in recovered.operators.keys.contains { $0.hasPrefix("\(state.name)@") } }) {
            throw StreamingError(
                code: .stateIncompatible,
                message: "job '\(job)': \(store.description) holds the state of operator '\(state.name)' per task (the job was split "
                    + "into tasks, by a repartition or a stream of tasks), but this job keeps it for the whole job; run the job as it was, "
                    + "or reset it (`sluice reset --job \(job) --sink …` deletes its offsets and state) to start over")
        }
        let advancers = graph.stateRegistry.advancers(ofNodes: Set(lineage.map(\.id)))
        let grid = StoredBatchGrid()
        let recoveredGrid = try grid.restore(from: recovered, job: job, store: store)
        for state in states {
            try state.restore(from: recovered, job: job, store: store)
        }
        let known = Set(states.map(\.name) + [StoredBatchGrid.operatorName])
        for name in recovered.operators.keys where !known.contains(name) {
            graph.logger.warning("job '\(job)': stored state of operator '\(name)' is not used by this job and is left as it is")
        }
        for input in inputs where !recovered.offsets.isEmpty {
            input.resume(recovered.offsets)
        }
        if let last = recovered.lastBatchTime {
            graph.logger.info("job '\(job)': recovered from \(store.description): last batch \(last), offsets \(recovered.offsets.map(\.description).joined(separator: ", ")), \(states.count) operator states")
            if recoveredGrid == nil {
                graph.logger.notice("job '\(job)': \(store.description) holds no batch grid (committed by an older version); windows sliding by more than one batch start their grid at this start, and the grid is stored from now on")
            }
        }

        let ledger = graph.deadLetters
        let batchInterval = graph.batchInterval
        try graph.addOutput(name: "saveExactlyOnce(\(job))", node: first.node, alsoReading: tables.dropFirst().map(\.node)) { time, ranges in
            let writes = try await tableWrites(tables, at: time, job: job)
            // Windows sliding by more than a batch take this batch in now,
            // so that its state is committed with its offsets.
            for advance in advancers { try await advance(time) }
            var changes = try states.map { OperatorStateChange(name: $0.name, encoding: $0.encoding, delta: try $0.encodedDelta()) }
            if let timeline = graph.timeline, let gridChange = try grid.change(for: timeline, batchInterval: batchInterval) {
                changes.append(gridChange)
            }
            let offsets = ranges.map { SourceOffset(topic: $0.topic, partition: $0.partition, offset: $0.nextOffsetToCommit) }
            try await store.commit(BatchCommit(
                job: job, batchTime: time, writes: writes, offsets: offsets,
                stateChanges: changes, deadLetters: ledger.take(time), ownerEpoch: claim.epoch))
            for state in states { state.markCommitted() }
            grid.markCommitted()
        }
        if let recoveredGrid { try graph.restoreGrid(recoveredGrid) }
    }
}

extension PersistentOperatorState {
    /// Restores what `recovered` holds for this state and starts tracking
    /// changes; returns false when nothing was stored (what the state holds
    /// now, e.g. initial state, is then the first change to commit).
    ///
    /// - Throws: `stateIncompatible` naming the operator when the stored
    ///   encoding is not this state's.
    @discardableResult
    func restore(from recovered: RecoveredJob, storedName: String? = nil, job: String, store: any ExactlyOnceStore) throws -> Bool {
        guard let stored = recovered.operators[storedName ?? name] else {
            beginChangeTracking(includeExisting: true)
            return false
        }
        guard stored.encoding == encoding else {
            throw StreamingError(
                code: .stateIncompatible,
                message: "job '\(job)': operator '\(name)' stored its state as \(stored.encoding) in \(store.description), "
                    + "but the job now keeps \(encoding); restore the old types, or reset the job "
                    + "(`sluice reset --job \(job) --sink …` deletes its offsets and state) to start over")
        }
        try restore(stored.entries)
        beginChangeTracking(includeExisting: false)
        return true
    }
}
