extension DStream {
    /// An output of a job split into tasks that writes each task's batch
    /// somewhere idempotent by position (a repartition topic whose reader
    /// drops replays, see ``droppingReplays(name:source:position:)``), then
    /// commits each task's until-offsets, with the dead letters `write`
    /// returns, to the job's exactly-once store — the first stage of a job
    /// re-keyed through Kafka (DESIGN.md, "Scale-out").
    ///
    /// `write` gets, once a batch, the batch of every task this process
    /// holds (only those whose plan it made since it holds them), and must
    /// return only once everything it wrote is durable: offsets are
    /// committed after it returns, so a crash in between makes the task's
    /// next owner write a prefix of the same records again.
    ///
    /// The stream must be an input whose partitions are tasks, and the job
    /// needs an exactly-once output (``StreamingContext/saveExactlyOnce(to:job:tables:)``),
    /// whose store and claims this output shares.
    public func foreachTaskBatch(
        name: String,
        _ write: @escaping @Sendable (_ batches: [(task: TaskID, batch: Batch<Element>)], _ time: Time) async throws -> [DeadLetter]
    ) throws {
        let graph = node.graph
        guard node.inputID != nil else {
            throw StreamingError(
                code: .invalidArgument,
                message: "\(name) writes an input stream's tasks: call it on the stream of the input itself, before any operator")
        }
        try graph.addOutput(name: name, node: node) { [self] time, ranges in
            guard let ownership = graph.taskOwnership else {
                throw StreamingError(
                    code: .invalidArgument,
                    message: "\(name) commits with the job's exactly-once output, and the job has none; add saveExactlyOnce")
            }
            ownership.dropClosed()
            let claims = ownership.claims(for: ranges, at: time)
            var batches: [(task: TaskID, batch: Batch<Element>)] = []
            for claim in claims {
                let batch = try await TaskScope.$current.withValue(claim.key) { try await self.batch(at: time) } ?? .empty
                batches.append((claim.key.task, batch))
            }
            let letters = try await write(batches, time)
            let sections = claims.map { claim in
                TaskCommit(
                    task: claim.key.task, epoch: claim.key.epoch, writes: [],
                    offsets: claim.ranges.map { SourceOffset(topic: $0.topic, partition: $0.partition, offset: $0.nextOffsetToCommit) },
                    stateChanges: [],
                    deadLetters: letters.filter { $0.topic == claim.key.task.topic && $0.partition == claim.key.task.partition })
            }
            guard !sections.isEmpty else { return }
            let outcome = try await ownership.store.commit(BatchCommit(
                job: ownership.job, batchTime: time, writes: [], offsets: [], stateChanges: [], tasks: sections))
            try ownership.refused(outcome.fenced, batchTime: time)
        }
        graph.markTasked(inputID: node.inputID)
    }
}
