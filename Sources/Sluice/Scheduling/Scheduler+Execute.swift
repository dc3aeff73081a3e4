import Logging

extension Scheduler {
    /// The executor: runs queued batches one at a time, in order, until the
    /// queue is finished; then stops the sources and reports termination.
    func execute() async {
        while let batch = await queue.next() {
            batch.startReading()
            queue.peek()?.startReading()
            do {
                try await run(batch)
            } catch let error as StreamingError {
                onFailure(error)
                break
            } catch {
                onFailure(StreamingError(code: .outputFailed, message: "batch \(batch.time) failed: \(error)", underlying: error))
                break
            }
        }
        if let generator = generatorTask {
            generator.cancel()
            await generator.value
        }
        for input in graph.inputs {
            await input.stop()
        }
        onTerminated()
    }

    /// Reads the batch's inputs, then runs every output operation in
    /// declaration order.
    private func run(_ batch: PlannedBatch) async throws {
        var info = batchInfo(for: batch)
        info.processingStartTime = clock.now()
        let started = info
        listeners.post { $0.batchStarted(started) }

        let counts: [Int]
        do {
            counts = try await batch.startReading().value
        } catch {
            throw StreamingError(
                code: .sourceFailed,
                message: "reading the input of batch \(batch.time) failed: \(error); the batch was not output",
                underlying: error)
        }
        for (index, count) in counts.enumerated() where index < info.inputs.count {
            info.inputs[index].records = count
        }

        for output in graph.outputs {
            let ranges = batch.inputs.filter { output.inputIDs.contains($0.inputID) }.flatMap(\.offsetRanges)
            do {
                try await ExecutingBatch.$contextID.withValue(contextID) {
                    try await output.run(batch.time, ranges)
                }
            } catch let error as StreamingError where error.code == .fenced {
                // Another process took the job over: its own message says so.
                throw error
            } catch let error as StreamingError where error.code == .sourceFailed {
                // An input partition read while the batch ran (PartitionArrival)
                // could not be read whole; outputs only see arrived partitions.
                throw StreamingError(
                    code: .sourceFailed,
                    message: "reading the input of batch \(batch.time) failed: \(error.message); the batch was not output by \(output.name) or any later output",
                    underlying: error.underlying)
            } catch {
                throw StreamingError(
                    code: .outputFailed,
                    message: "output operation #\(output.index + 1) (\(output.name)) failed for batch \(batch.time): \(error); the context stopped before this batch completed — fix the output or handle the error inside it",
                    underlying: error)
            }
        }
        graph.forgetOldBatches(after: batch.time)
        info.processingEndTime = clock.now()

        for input in info.inputs {
            rateControllers[input.inputID]?.batchCompleted(
                time: batch.time, records: input.records,
                processingDelay: info.processingDelay ?? .zero,
                schedulingDelay: info.schedulingDelay ?? .zero)
        }
        logProgress(info)
        let completed = info
        listeners.post { $0.batchCompleted(completed) }
    }

    private func logProgress(_ info: BatchInfo) {
        let processing = info.processingDelay?.wholeMilliseconds ?? 0
        let scheduling = info.schedulingDelay?.wholeMilliseconds ?? 0
        graph.logger.info(
            "batch \(info.batchTime): \(info.numRecords) records\(info.inputs.contains(where: \.isInternal) ? ", \(info.internalRecords) repartitioned" : ""), processing \(processing) ms, scheduling delay \(scheduling) ms, lag \(info.totalLag)",
            metadata: [
                "repartitioned": "\(info.internalRecords)",
                "batchTime": "\(info.batchTime.milliseconds)",
                "records": "\(info.numRecords)",
                "processingMs": "\(processing)",
                "schedulingDelayMs": "\(scheduling)",
                "lag": "\(info.totalLag)",
            ])
    }
}
