import ArgumentParser
import Foundation
import Logging
import Sluice
import SluiceJobs
import SluiceKafka

/// `sluice run JOB`: a ready-made exactly-once job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a ready-made exactly-once job until stopped.",
        discussion: """
            wordcount: running word totals in word_counts(word TEXT PRIMARY KEY, count INTEGER NOT NULL). \
            Results, offsets and state are committed in one transaction per batch; a restart resumes \
            from the sink, so a kill at any moment loses and doubles nothing. \
            A job runs in one process at a time: starting it again elsewhere takes it over, and the process \
            that held it stops at its next commit with exit status 3, naming the process that holds it now.
            """
    )

    enum Job: String, ExpressibleByArgument, CaseIterable {
        case wordcount
    }

    @Argument(help: "The job: wordcount.")
    var job: Job

    @Option(help: "Bootstrap servers of the Kafka cluster.")
    var bootstrap: String

    @Option(help: "Input topic.")
    var topic: String

    @OptionGroup var sink: SinkArguments

    @Option(name: .customLong("job"), help: "The job's name: keys its offsets and state in the sink, and is its consumer group.")
    var jobName: String = "wordcount"

    @Option(help: "Batch interval, e.g. 1s or 200ms.")
    var interval: DurationArgument = DurationArgument(argument: "1s")!

    @Option(help: "Most records per partition per second; 0 for no limit.")
    var maxRatePerPartition: Double = 0

    @Flag(help: "Read every partition of the topic directly instead of joining the consumer group (no rebalance wait; one process per job).")
    var assign = false

    @Option(help: "Undecodable records: dead-letter (keep them with their position and go on) or stop.")
    var onBadRecord: BadRecordPolicy = .deadLetter

    @OptionGroup(title: "Kafka security") var kafkaSecurity: KafkaSecurityArguments

    @OptionGroup var common: CommonOptions

    enum BadRecordPolicy: String, ExpressibleByArgument, CaseIterable {
        case deadLetter = "dead-letter", stop
    }

    func validate() throws {
        _ = try SinkSpecification(sink.sink)
        guard !jobName.isEmpty else { throw ValidationError("--job must not be empty") }
    }

    func run() async throws {
        let signals = SignalWatcher()
        common.bootstrapLogging()
        let logger = Logger(label: "sluice.run")
        let kafka = try kafkaSecurity.resolve()
        kafka.logWarnings(logger)
        let (sinkSpecification, passwordWarning) = try sink.resolve()
        if let passwordWarning { logger.warning("\(passwordWarning)") }
        let context = try StreamingContext(batchInterval: interval.duration, configuration: StreamingConfiguration(logger: logger))
        var wordCount = WordCountJob(bootstrapServers: bootstrap, topic: topic, job: jobName, sink: sinkSpecification, interval: interval.duration)
        wordCount.maxRatePerPartition = maxRatePerPartition
        wordCount.deadLetterPolicy = onBadRecord == .stop ? .stop : .deadLetter
        var consumer = KafkaConsumerConfigurationDefaults.forJobs(bootstrap: bootstrap, group: jobName)
        consumer.groupID = jobName
        kafka.apply(to: &consumer)
        wordCount.consumer = consumer
        wordCount.kafka = kafka
        if assign {
            let count = try kafka.admin(bootstrapServers: bootstrap, logger: logger).describeTopic(topic).partitions.count
            wordCount.partitions = (0..<Int32(count)).map { $0 }
        }
        try await wordCount.define(on: context)
        try context.start()
        logger.info("job '\(jobName)' running: \(topic) → \(wordCount.sink); stop with Ctrl-C")
        do {
            try await context.awaitTerminationOrSignal(signals, logger: logger)
        } catch let error as StreamingError where error.code == .fenced {
            logger.error("\(error.message)")
            throw ExitCode(Self.fencedExitCode)
        }
    }

    /// The exit status of a process whose job another process took over.
    static let fencedExitCode: Int32 = 3
}
