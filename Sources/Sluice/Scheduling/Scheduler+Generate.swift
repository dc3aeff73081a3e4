extension Scheduler {
    /// The generator: starts the sources, then plans and queues one batch per
    /// interval until cancelled. Catches up (one batch per missed tick) when
    /// the clock jumps or the task was delayed: batches are never skipped.
    func generate(from startTime: Time) async {
        for input in graph.inputs {
            let context = SourceContext(
                inputID: input.id, batchInterval: graph.batchInterval,
                defaultParallelism: graph.defaultParallelism, logger: graph.logger,
                undecodable: undecodable[input.id] ?? UndecodableRecordCounter(input: input.name))
            do {
                try await input.start(context)
            } catch {
                onFailure(StreamingError(
                    code: .sourceFailed,
                    message: "input '\(input.name)' failed to start: \(error); check its address/settings",
                    underlying: error))
                return
            }
        }
        listeners.post { $0.streamingStarted(firstBatchTime: startTime) }
        var time = startTime
        while !Task.isCancelled {
            do {
                try await clock.sleepUntil(time)
            } catch {
                return
            }
            if Task.isCancelled { return }
            do {
                let batch = try await plan(time)
                if queue.enqueue(batch) {
                    let info = batchInfo(for: batch)
                    listeners.post { $0.batchSubmitted(info) }
                }
            } catch {
                // A stop cancels the generator; a plan interrupted by it is
                // simply not queued, not a failure.
                if Task.isCancelled { return }
                onFailure(error as? StreamingError ?? StreamingError(
                    code: .sourceFailed, message: "planning batch \(time) failed: \(error)", underlying: error))
                return
            }
            time = time + graph.batchInterval
        }
    }

    /// Asks every input what the batch at `time` contains, records the plan.
    private func plan(_ time: Time) async throws -> PlannedBatch {
        var planned: [PlannedInput] = []
        for input in graph.inputs {
            let context = PlanningContext(
                batchTime: time, batchInterval: graph.batchInterval,
                estimatedRate: rateControllers[input.id]?.latestRate,
                defaultParallelism: graph.defaultParallelism)
            do {
                planned.append(try await input.plan(context))
            } catch {
                throw StreamingError(
                    code: .sourceFailed,
                    message: "input '\(input.name)' could not plan batch \(time): \(error)",
                    underlying: error)
            }
        }
        if let planRecorder {
            var ranges: [Int: [OffsetRange]] = [:]
            for input in planned where !input.offsetRanges.isEmpty {
                ranges[input.inputID] = input.offsetRanges
            }
            do {
                try await planRecorder.record(RecordedBatchPlan(batchTime: time, offsetRanges: ranges))
            } catch {
                throw StreamingError(
                    code: .sourceFailed,
                    message: "the plan of batch \(time) could not be recorded, so it was not run: \(error)",
                    underlying: error)
            }
        }
        return PlannedBatch(time: time, submissionTime: clock.now(), inputs: planned)
    }

    func batchInfo(for batch: PlannedBatch) -> BatchInfo {
        let names = Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0.id, $0.name) })
        let internalInputs = Set(graph.inputs.filter(\.isInternal).map(\.id))
        return BatchInfo(
            batchTime: batch.time,
            inputs: batch.inputs.map { input in
                InputBatchInfo(
                    inputID: input.inputID, name: names[input.inputID] ?? "input \(input.inputID)",
                    records: Int(input.offsetRanges.reduce(0) { $0 + $1.count }),
                    offsetRanges: input.offsetRanges, partitionLag: input.partitionLag,
                    isInternal: internalInputs.contains(input.inputID))
            },
            submissionTime: batch.submissionTime)
    }
}
