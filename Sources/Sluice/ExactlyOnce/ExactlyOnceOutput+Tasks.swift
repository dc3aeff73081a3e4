extension ExactlyOnceOutput {
    /// The exactly-once output of a job whose inputs are split into tasks
    /// (DESIGN.md, "Scale-out"): each batch is computed task by task
    /// (``TaskScope``), and committed in one transaction of task sections,
    /// each written only while this process still holds the task
    /// (``TaskOwnership``). Inputs open and close tasks as the consumer
    /// group moves their partitions.
    static func registerTasks(
        graph: StreamGraph, store: any ExactlyOnceStore, job: String, tables: [ExactlyOnceTable],
        lineage: [StreamNode], inputs: [RegisteredInput]
    ) async throws {
        if let whole = inputs.first(where: { !graph.partitionsAreTasks($0) }) {
            throw StreamingError(
                code: .invalidArgument,
                message: "exactly-once output of job '\(job)' reads '\(whole.name)', whose partitions are not tasks, beside inputs that are; "
                    + "a job split into tasks reads only inputs split into tasks (a repartition, or a Kafka stream keyed by the state's key)")
        }
        let nodeIDs = Set(lineage.map(\.id))
        let states = graph.stateRegistry.states(ofNodes: nodeIDs)
        if let state = states.first(where: { !$0.supportsTasks }) {
            throw StreamingError(
                code: .invalidArgument,
                message: "job '\(job)' is split into tasks, but operator '\(state.name)' cannot keep its state per task "
                    + "(updateStateByKey without initial state and the event-time aggregations can); "
                    + "run the job without tasks, or keep that state with one of those operators")
        }
        if let name = states.map(\.name).first(where: { $0.contains("@") || $0 == StoredBatchGrid.operatorName }) {
            throw StreamingError(
                code: .invalidArgument,
                message: "job '\(job)': operator name '\(name)' is reserved (names with '@' store a task's state); name the operator otherwise")
        }
        let recovered = try await store.recover(job: job, tables: tables.map(\.table))
        if let global = states.first(where: { recovered.operators[$0.name] != nil }) {
            throw StreamingError(
                code: .stateIncompatible,
                message: "job '\(job)': \(store.description) holds the state of operator '\(global.name)' for the whole job, "
                    + "as an earlier version (or the job without tasks) stored it; this job keeps it per task. Reset the job "
                    + "(`sluice reset --job \(job) --sink …`, and delete its results) to start over")
        }
        for state in states {
            for (name, stored) in recovered.operators where name.hasPrefix("\(state.name)@") && stored.encoding != state.encoding {
                throw StreamingError(
                    code: .stateIncompatible,
                    message: "job '\(job)': operator '\(state.name)' stored its state as \(stored.encoding) in \(store.description) "
                        + "(task \(name.dropFirst(state.name.count + 1))), but the job now keeps \(state.encoding); restore the old types, "
                        + "or reset the job (`sluice reset --job \(job) --sink …` deletes its offsets and state) to start over")
            }
        }
        let grid = StoredBatchGrid()
        let recoveredGrid = try grid.restore(from: recovered, job: job, store: store)
        let ownership = TaskOwnership(
            store: store, job: job, owner: .thisProcess, logger: graph.logger, states: states, perTaskValues: graph.perTaskValues)
        graph.setTaskOwnership(ownership)
        for input in graph.inputs where graph.partitionsAreTasks(input) {
            input.setTaskHooks(ownership.hooks)
        }
        for state in states { state.beginChangeTracking(includeExisting: false) }
        if let last = recovered.lastBatchTime {
            graph.logger.info("job '\(job)': split into tasks; last batch committed \(last); each task's offsets and state are restored when it is assigned")
        }

        let advancers = graph.stateRegistry.advancers(ofNodes: nodeIDs)
        let ledger = graph.deadLetters
        let batchInterval = graph.batchInterval
        try graph.addOutput(name: "saveExactlyOnce(\(job))", node: tables[0].node, alsoReading: tables.dropFirst().map(\.node)) { time, ranges in
            ownership.dropClosed()
            var letters = ledger.take(time)
            var sections: [TaskCommit] = []
            let claims = ownership.claims(for: ranges, at: time)
            for claim in claims {
                let section = try await TaskScope.$current.withValue(claim.key) { () async throws -> TaskCommit in
                    let writes = try await tableWrites(tables, at: time, job: job)
                    for advance in advancers { try await advance(time) }
                    let task = claim.key.task
                    let changes = try states.map {
                        OperatorStateChange(name: task.stateName(of: $0.name), encoding: $0.encoding, delta: try $0.encodedDelta())
                    }
                    let own = letters.filter { $0.topic == task.topic && $0.partition == task.partition }
                    letters.removeAll { $0.topic == task.topic && $0.partition == task.partition }
                    return TaskCommit(
                        task: task, epoch: claim.key.epoch, writes: writes,
                        offsets: claim.ranges.map { SourceOffset(topic: $0.topic, partition: $0.partition, offset: $0.nextOffsetToCommit) },
                        stateChanges: changes, deadLetters: own)
                }
                sections.append(section)
            }
            var changes: [OperatorStateChange] = []
            if let timeline = graph.timeline, let gridChange = try grid.change(for: timeline, batchInterval: batchInterval) {
                changes.append(gridChange)
            }
            let outcome = try await store.commit(BatchCommit(
                job: job, batchTime: time, writes: [], offsets: [], stateChanges: changes, deadLetters: letters, tasks: sections))
            let refused = Set(outcome.fenced.map(\.task))
            for claim in claims where !refused.contains(claim.key.task) {
                TaskScope.$current.withValue(claim.key) {
                    for state in states { state.markCommitted() }
                }
            }
            grid.markCommitted()
            try ownership.refused(outcome.fenced, batchTime: time)
        }
        if let recoveredGrid { try graph.restoreGrid(recoveredGrid) }
    }

    /// Every table's rows at `time` (of the current task, under one).
    static func tableWrites(_ tables: [ExactlyOnceTable], at time: Time, job: String) async throws -> [TableWrite] {
        var writes: [TableWrite] = []
        for table in tables {
            let rows = try await table.rows(time)
            try checkRows(rows, of: table, job: job)
            writes.append(TableWrite(table: table.table, rows: rows))
        }
        return writes
    }

    /// Checks that every row has the table's number of values.
    static func checkRows(_ rows: [[ResultValue]], of table: ExactlyOnceTable, job: String) throws {
        if let bad = rows.first(where: { $0.count != table.table.columns.count }) {
            throw StreamingError(
                code: .outputFailed,
                message: "job '\(job)': a row for table '\(table.table.name)' has \(bad.count) values, the table has \(table.table.columns.count) columns")
        }
    }
}
