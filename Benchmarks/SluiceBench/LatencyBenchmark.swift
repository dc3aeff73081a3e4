import ArgumentParser
import Foundation
import Sluice
import SluiceKafka
import SluiceKafkaStream
import SluiceWorkloads

/// Issue 3 (b): a producer sends word lines at a fixed rate; a word count
/// with the Kafka direct stream reads them; for every record, (time its
/// batch's output ran − the record's timestamp, CreateTime set when it was
/// sent). p50/p99 per batch interval. The first second of each run is left
/// out (connections, first fetch). Baseline of the same run: a plain
/// KafkaConsumer that takes records as soon as librdkafka holds them
/// (receive time − timestamp), the floor of any batch engine on this client.
struct LatencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "p50/p99 of batch output time − record timestamp at a fixed producer rate (issue 3).")

    @Option(parsing: .upToNextOption, help: "Batch intervals in milliseconds.") var intervalsMs: [Int] = [10, 100, 1000]
    @Option(help: "Records per second sent.") var rate: Int = 10_000
    @Option(help: "Seconds of sending per interval (at least 10 intervals).") var seconds: Double = 6
    @Option(help: "Partitions of each topic.") var partitions: Int32 = 4
    @Option(help: "librdkafka socket.nagle.disable for the consumer and producer (true sends small requests at once).") var nagleDisable: Bool = false
    // On the mock, a record's delivery follows fetch.wait.max.ms, as if an
    // empty Fetch were held for the whole wait even when records arrive (a
    // real broker answers as soon as they do). Measured in the same
    // benchmark, a plain consumer: p50/p99 9.0/27.5 ms at 10 ms, 2.8/5.2 ms
    // at 2 ms; at 10 ms the floor alone is over the 20 ms that 10 ms
    // batches may take.
    @Option(help: "Consumer fetch.wait.max.ms (on the mock, record delivery follows it).") var fetchWaitMs: Int = 2
    @Option(help: "The stream's isolation level: read_committed (the default) or read_uncommitted.") var isolation: String = KafkaIsolationLevel.readCommitted.rawValue

    func run() async throws {
        printLoad()
        ChildSetup.quietLogging()
        let cluster = try MockCluster(brokers: 1)
        var rows: [String] = []
        for interval in intervalsMs {
            let topic = "bench-latency-\(interval)"
            try cluster.createTopic(topic, partitions: partitions)
            let duration = max(seconds, Double(interval) * 10 / 1000 + 1)
            let result = try await measure(cluster: cluster, topic: topic, intervalMs: interval, duration: duration)
            let p50 = Measure.percentile(result.latencies, 50)
            let p99 = Measure.percentile(result.latencies, 99)
            let met = p99 <= 2 * Double(interval)
            let row = String(format: "interval %5d ms: p50 %7.1f ms, p99 %7.1f ms, p99 / interval %.2f (target ≤ 2: %@); %d records, max scheduling delay %.0f ms, max processing time %.0f ms, medians: planning %.0f ms, scheduling %.0f ms, processing %.0f ms; planning p99 %.0f ms, partition ends asked of the leader %d of %d; same records by a plain KafkaConsumer.poll: p50 %.1f ms, p99 %.1f ms",
                             interval, p50, p99, p99 / Double(interval), Format.verdict(met), result.latencies.count,
                             result.maxSchedulingDelay, result.maxProcessing,
                             result.medians.planning, result.medians.scheduling, result.medians.processing,
                             result.planningP99, result.endsAsked, result.partitionPlans,
                             Measure.percentile(result.rawLatencies, 50), Measure.percentile(result.rawLatencies, 99))
            print(row)
            rows.append(row)
        }
        print("")
        print("## latency — producer at \(rate) records/s (word lines, linger 1 ms), \(partitions) partitions, Kafka direct stream word count (countTokens), consumer fetch.wait.max.ms \(fetchWaitMs), \(isolation), socket.nagle.disable \(nagleDisable)")
        rows.forEach { print($0) }
        printLoad()
    }

    struct Result {
        var latencies: [Double]
        /// The same records received by a plain KafkaConsumer.
        var rawLatencies: [Double]
        var maxSchedulingDelay: Double
        var maxProcessing: Double
        var medians: (planning: Double, scheduling: Double, processing: Double)
        /// 99th percentile of planning (batch time → submitted), ms.
        var planningP99: Double
        /// Partition ends planning asked of the leaders, and partition plans in all.
        var endsAsked: Int
        var partitionPlans: Int
    }

    func measure(cluster: MockCluster, topic: String, intervalMs: Int, duration: Double) async throws -> Result {
        let context = try StreamingContext(
            batchInterval: .milliseconds(intervalMs), configuration: StreamingConfiguration(logger: ChildSetup.logger))
        var source = KafkaSourceConfiguration(
            bootstrapServers: cluster.bootstrapServers,
            subscription: .partitions((0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }),
            groupID: "bench-latency-\(intervalMs)")
        source.startingPosition = .earliest
        source.consumer.fetch.maxWait = .milliseconds(fetchWaitMs)
        guard let isolationLevel = KafkaIsolationLevel(rawValue: isolation) else {
            throw BenchError("--isolation: read_committed or read_uncommitted, not \(isolation)")
        }
        source.isolationLevel = isolationLevel
        if nagleDisable { source.consumer.additionalProperties["socket.nagle.disable"] = "true" }
        let directSource = KafkaDirectSource(configuration: source)
        let stream = context.kafkaDirectStream(directSource)
        let outputs = OutputTally()
        try outputs.tally(stream.map { ByteString($0.value[...]) }.countTokens())
        let latencies = Locked<[Double]>([])
        let warmupEnd = Locked<Double>(.infinity)
        try stream.map { Double($0.timestamp?.milliseconds ?? 0) }.foreachBatch { batch, _, _ in
            let now = Measure.epochMilliseconds()
            let from = warmupEnd.value
            var found: [Double] = []
            for partition in batch.partitions {
                partition.forEach { stamp in if stamp >= from { found.append(now - stamp) } }
            }
            latencies.withLock { $0.append(contentsOf: found) }
        }
        let delays = DelayTracker()
        context.addListener(delays)
        // Baseline of the same run: a plain KafkaConsumer polling the same
        // partitions with the same settings; latency = receive time − timestamp.
        var rawConfiguration = source.consumer
        rawConfiguration.groupID = "bench-latency-raw-\(intervalMs)"
        let raw = try KafkaConsumer(configuration: rawConfiguration)
        var rawStarts: [KafkaTopicPartition: KafkaStartOffset] = [:]
        for partition in 0..<partitions { rawStarts[KafkaTopicPartition(topic: topic, partition: partition)] = .beginning }
        try raw.assign(rawStarts)
        let rawLatencies = Locked<[Double]>([])
        let rawStop = Locked(false)
        let rawDone = DispatchSemaphore(value: 0)
        Thread {
            while !rawStop.value {
                // What librdkafka holds at once, else wait for the first record
                // (a batch poll waits out its whole timeout unless it fills).
                guard var records = try? raw.poll(maxRecords: 10_000, timeout: .zero) else { break }
                if records.isEmpty {
                    guard let first = try? raw.poll(maxRecords: 1, timeout: .milliseconds(20)) else { break }
                    records = first
                }
                let now = Measure.epochMilliseconds()
                let from = warmupEnd.value
                var found: [Double] = []
                for record in records {
                    let stamp = Double(record.timestamp?.milliseconds ?? 0)
                    if stamp >= from { found.append(now - stamp) }
                }
                rawLatencies.withLock { $0.append(contentsOf: found) }
            }
            rawDone.signal()
        }.start()
        try context.start()
        // Let the source connect and assign before sending.
        try await Task.sleep(for: .milliseconds(500 + intervalMs))

        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.linger = .milliseconds(1)
        if nagleDisable { configuration.additionalProperties["socket.nagle.disable"] = "true" }
        let producer = try KafkaProducer(configuration: configuration)
        var workload = Workload(format: .words, seed: 3)
        let start = Measure.now()
        warmupEnd.withLock { $0 = Measure.epochMilliseconds() + 1000 }
        let total = Int(Double(rate) * duration)
        var sent = 0
        while sent < total {
            let due = min(total, Int((Measure.now() - start) * Double(rate)) + 1)
            while sent < due {
                guard let record = workload.next() else { break }
                try enqueue(producer, KafkaProducerMessage(topic: topic, partition: Int32(sent % Int(partitions)), value: Array(record.value.utf8)))
                sent += 1
            }
            try await Task.sleep(for: .microseconds(500))
        }
        try await producer.flush(timeout: .seconds(30))
        // Wait until every record sent after the warm-up has been output.
        let deadline = Measure.now() + 30
        // Records stamped in the first second are left out; allow 1% slack at that edge.
        let expected = (total - rate) * 99 / 100
        while latencies.value.count < expected && Measure.now() < deadline {
            try await Task.sleep(for: .milliseconds(max(10, intervalMs)))
        }
        await context.stop(graceful: false)
        rawStop.withLock { $0 = true }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                rawDone.wait()
                continuation.resume()
            }
        }
        try closeBlocking(raw)
        try producer.close()
        let sorted = latencies.value.sorted()
        guard sorted.count >= expected else {
            throw BenchError("interval \(intervalMs) ms: only \(sorted.count) of \(expected) records were output")
        }
        return Result(latencies: sorted, rawLatencies: rawLatencies.value.sorted(),
                      maxSchedulingDelay: delays.maxScheduling, maxProcessing: delays.maxProcessing, medians: delays.medians,
                      planningP99: delays.planningP99, endsAsked: directSource.partitionEndsAskedOfLeaders, partitionPlans: delays.batches * Int(partitions))
    }
}

/// Locked value for the benchmark's own bookkeeping.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        try lock.withLock { try body(&stored) }
    }
}

/// Delays of non-empty batches: planning (batch time → submitted: the
/// end-of-log queries), scheduling (submitted → started) and processing.
final class DelayTracker: StreamingListener, @unchecked Sendable {
    private let lock = NSLock()
    private var planning: [Double] = []
    private var scheduling: [Double] = []
    private var processing: [Double] = []
    private var allBatches = 0

    func batchCompleted(_ info: BatchInfo) {
        lock.withLock { allBatches += 1 }
        guard info.numRecords > 0 else { return }
        lock.withLock {
            planning.append(Double(info.submissionTime.milliseconds - info.batchTime.milliseconds))
            if let delay = info.schedulingDelay { scheduling.append(Double(delay.components.seconds) * 1000 + Double(delay.components.attoseconds) / 1e15) }
            if let delay = info.processingDelay { processing.append(Double(delay.components.seconds) * 1000 + Double(delay.components.attoseconds) / 1e15) }
        }
    }

    /// Batches completed, empty ones too.
    var batches: Int { lock.withLock { allBatches } }
    /// 99th percentile of planning (ms).
    var planningP99: Double { lock.withLock { Measure.percentile(planning.sorted(), 99) } }
    var maxScheduling: Double { lock.withLock { scheduling.max() ?? 0 } }
    var maxProcessing: Double { lock.withLock { processing.max() ?? 0 } }
    /// Medians: planning, scheduling, processing (ms).
    var medians: (planning: Double, scheduling: Double, processing: Double) {
        lock.withLock { (Measure.median(planning), Measure.median(scheduling), Measure.median(processing)) }
    }
}

/// The non-blocking send (enqueue; delivery reported later), not the async one that waits for delivery.
@discardableResult
func enqueue(_ producer: KafkaProducer, _ message: KafkaProducerMessage) throws -> UInt {
    try producer.send(message)
}

/// The blocking close (not the async one).
func closeBlocking(_ consumer: KafkaConsumer) throws {
    try consumer.close()
}
