import Dispatch
import SluiceKafka
import Synchronization

extension KafkaDirectSource {
    /// How many partition ends planning has asked of the partition leaders
    /// so far (a round trip each plan that asks); the others came from the
    /// fetch responses. For monitoring and benchmarks.
    public var partitionEndsAskedOfLeaders: Int { state.withLock { $0.partitionsAskedOfLeaders } }

    /// Whether the fetch thread paused the partition because its buffer is full.
    func isPausedForBuffer(_ partition: KafkaTopicPartition) -> Bool {
        paused.withLock { $0.contains(partition) }
    }

    /// Low watermark and end of the log (the last stable offset with
    /// read_committed) per partition, for planning a batch: from the fetch
    /// responses where ``LogEndChoice`` allows it, the rest asked of the
    /// leaders in one request per leader. A partition whose leader does not
    /// answer reads nothing this batch.
    ///
    /// - Returns: the watermarks to plan with, and the high watermarks the
    ///   fetch responses reported (for lag: under read_committed the end
    ///   planned with can trail them).
    func logEnds(
        from starts: [KafkaTopicPartition: Int64], consumer: KafkaConsumer, offsetsClient: KafkaConsumer
    ) async throws -> (marks: [KafkaTopicPartition: KafkaWatermarks], highWatermarks: [KafkaTopicPartition: Int64]) {
        var marks: [KafkaTopicPartition: KafkaWatermarks] = [:]
        var toAsk: [KafkaTopicPartition] = []
        let knowledge = try localKnowledge(starts, consumer: consumer)
        var highs: [KafkaTopicPartition: Int64] = [:]
        for (partition, local) in knowledge {
            highs[partition] = local.cached?.high
            switch LogEndChoice.choose(local, isolation: configuration.isolationLevel) {
            case .known(let mark): marks[partition] = mark
            case .askLeader: toAsk.append(partition)
            }
        }
        guard !toAsk.isEmpty else { return (marks, highs) }
        state.withLock { $0.partitionsAskedOfLeaders += toAsk.count }
        let asking = toAsk
        let asked = try await KafkaBlocking.run { [self] in try askLeaders(asking, client: offsetsClient) }
        remember(asked)
        marks.merge(asked) { _, asked in asked }
        return (marks, highs)
    }

    /// Keeps the leaders' answers: each end is a lower bound of the log's
    /// end (the last stable offset under read_committed) from then on.
    private func remember(_ asked: [KafkaTopicPartition: KafkaWatermarks]) {
        state.withLock { state in
            for (partition, mark) in asked { state.askedEnds[partition] = max(state.askedEnds[partition] ?? 0, mark.high) }
        }
    }

    /// Cached watermarks, positions and whether each partition is being
    /// fetched: local calls only, no network.
    private func localKnowledge(
        _ starts: [KafkaTopicPartition: Int64], consumer: KafkaConsumer
    ) throws -> [(KafkaTopicPartition, LogEndChoice.Local)] {
        let partitions = starts.keys.sorted()
        // Read the paused set first: a partition paused after this read has
        // fetched records up to its cached end, which is then still a
        // lower bound of the log's end.
        let pausedNow = paused.withLock { $0 }
        let asked = state.withLock { $0.askedEnds }
        let positions = try consumer.position(partitions)
        return try partitions.map { partition in
            (partition, LogEndChoice.Local(
                cached: try consumer.cachedWatermarks(of: partition),
                position: positions[partition] ?? nil,
                from: starts[partition] ?? 0,
                asked: asked[partition],
                isFetching: !pausedNow.contains(partition)))
        }
    }

    /// Both ends of each partition from its leader: the end of the log and
    /// the log start, each one ListOffsets request per leader, the two in
    /// parallel. *Blocking*.
    private func askLeaders(_ partitions: [KafkaTopicPartition], client: KafkaConsumer) throws -> [KafkaTopicPartition: KafkaWatermarks] {
        let answers = Mutex<(ends: Result<[KafkaTopicPartition: Result<Int64, KafkaError>], any Error>?,
                             starts: Result<[KafkaTopicPartition: Result<Int64, KafkaError>], any Error>?)>((nil, nil))
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            if index == 0 {
                let ends = Result { try client.endOffsets(of: partitions, timeout: .seconds(10)) }
                answers.withLock { $0.ends = ends }
            } else {
                let starts = Result { try client.startOffsets(of: partitions, timeout: .seconds(10)) }
                answers.withLock { $0.starts = starts }
            }
        }
        let (ends, starts) = answers.withLock { ($0.ends, $0.starts) }
        var marks: [KafkaTopicPartition: KafkaWatermarks] = [:]
        for partition in partitions {
            do {
                guard let ends, let starts else { continue }
                let end = try ends.get()[partition]?.get()
                let start = try starts.get()[partition]?.get()
                guard let end, let start else { continue }
                marks[partition] = KafkaWatermarks(low: start, high: end)
            } catch {
                state.withLock { $0.logger }.warning("\(name): end of log of \(partition) unknown this batch: \(error)")
            }
        }
        return marks
    }
}
