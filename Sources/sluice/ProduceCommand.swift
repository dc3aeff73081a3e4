import ArgumentParser
import Foundation
import Logging
import SluiceJobs
import SluiceKafka
import SluiceWorkloads

/// `sluice produce`: deterministic synthetic load, or the lines of a file.
struct ProduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send synthetic records (same seed, same records) or a file's lines to a topic.",
        discussion: """
            Formats: words (5–15 words a line, 10,000-word Zipf vocabulary), access-log \
            (Apache combined lines keyed by client address), user-events (JSON keyed by user).
            Keyless records (words) go round robin over the partitions. \
            With --file, each line is one record, sent in order; keys are line numbers, which \
            spreads the lines over the partitions.
            """
    )

    @Option(help: "Bootstrap servers, host:port[,host:port…].")
    var bootstrap: String

    @Option(help: "Topic to write to.")
    var topic: String

    @Option(help: "Number of synthetic records (ignored with --file).")
    var count: Int = 100_000

    @Option(help: "Records per second; 0 sends as fast as the cluster takes them.")
    var rate: Double = 0

    @Option(help: "Synthetic record format: \(WorkloadFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: WorkloadFormat = .words

    @Option(help: "Random seed: the same seed sends the same records.")
    var seed: UInt64 = 1

    @Option(help: "Send this file's lines instead of synthetic records (- for standard input).")
    var file: String?

    @Option(help: "Compression: none, gzip, snappy, lz4, zstd. Use lz4 for large loads into the embedded cluster.")
    var compression: KafkaCompression = .none

    @OptionGroup(title: "Kafka security") var kafkaSecurity: KafkaSecurityArguments

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more, not \(count)") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be 0 (unlimited) or a positive number, not \(rate)") }
    }

    func run() throws {
        common.bootstrapLogging()
        let logger = Logger(label: "sluice.produce")
        let kafka = try kafkaSecurity.resolve()
        kafka.logWarnings(logger)
        let signals = SignalWatcher()
        var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        configuration.compression = compression
        configuration.linger = .milliseconds(20)
        configuration.messageTimeout = .seconds(60)
        kafka.apply(to: &configuration)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        // Fail fast, naming the topic, rather than timing out record by record.
        let admin = try kafka.admin(bootstrapServers: bootstrap, logger: logger)
        let partitionCount = Int32(max(1, try admin.describeTopic(topic).partitions.count))

        var progress = ProgressReporter(logger: logger, total: file == nil ? count : nil, unit: "records")
        var pacer = Pacer(rate: rate)
        var sent = 0
        if let file {
            var reader = try LineReader(path: file)
            defer { reader.close() }
            while let line = reader.next(), !signals.isStopped {
                pacer.wait(forRecord: sent)
                try producer.send(KafkaProducerMessage(topic: topic, key: Array(String(reader.lineNumber).utf8), value: line))
                sent += 1
                progress.update(done: sent, extra: "delivered \(producer.deliveryCounts.delivered)")
            }
        } else {
            var workload = Workload(format: format, seed: seed)
            while sent < count, !signals.isStopped, let record = workload.next() {
                pacer.wait(forRecord: sent)
                // Keyless records go round robin, so partitions fill evenly
                // (librdkafka's sticky partitioner would fill one at a time).
                try producer.send(KafkaProducerMessage(
                    topic: topic, partition: record.key == nil ? Int32(sent % Int(partitionCount)) : nil,
                    key: record.key.map { Array($0.utf8) }, value: Array(record.value.utf8)))
                sent += 1
                progress.update(done: sent, extra: "delivered \(producer.deliveryCounts.delivered)")
            }
        }
        try producer.flush(timeout: .seconds(120))
        let counts = producer.deliveryCounts
        progress.finish(done: sent, extra: "delivered \(counts.delivered), failed \(counts.failed)")
        try producer.close()
        if counts.failed > 0 {
            throw ValidationError("\(counts.failed) of \(sent) records were not delivered to \(topic)")
        }
    }
}

extension WorkloadFormat: ExpressibleByArgument {}
extension KafkaCompression: ExpressibleByArgument {}

/// Spaces records so that record i is sent no earlier than start + i / rate.
struct Pacer {
    let rate: Double
    let start = ContinuousClock.now

    mutating func wait(forRecord index: Int) {
        guard rate > 0 else { return }
        let due = start + .seconds(Double(index) / rate)
        let now = ContinuousClock.now
        if due > now { Thread.sleep(forTimeInterval: Double((due - now).components.attoseconds) / 1e18 + Double((due - now).components.seconds)) }
    }
}

/// One progress line a second: done/total, rate, and whatever the command adds.
struct ProgressReporter {
    let logger: Logger
    let total: Int?
    let unit: String
    let start = ContinuousClock.now
    var lastReport = ContinuousClock.now

    init(logger: Logger, total: Int?, unit: String) {
        self.logger = logger
        self.total = total
        self.unit = unit
    }

    mutating func update(done: Int, extra: @autoclosure () -> String) {
        // Checking the clock on every record costs more than the record; sample.
        guard done & 1023 == 0 else { return }
        let now = ContinuousClock.now
        guard now - lastReport >= .seconds(1) else { return }
        lastReport = now
        logger.info("\(line(done: done, now: now)), \(extra())")
    }

    func finish(done: Int, extra: String) {
        logger.info("done: \(line(done: done, now: .now)), \(extra)")
    }

    private func line(done: Int, now: ContinuousClock.Instant) -> String {
        let elapsed = now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let of = total.map { "/\($0)" } ?? ""
        return "\(done)\(of) \(unit) in \(String(format: "%.1f", seconds)) s (\(Int(rate)) \(unit)/s)"
    }
}
