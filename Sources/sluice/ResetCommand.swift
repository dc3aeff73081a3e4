import ArgumentParser
import Logging
import SluiceJobs

/// `sluice reset`: forget a job's offsets and state in its sink.
struct ResetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Forget a job's stored offsets, state and dead letters (its results stay).",
        discussion: "The job's next start reads from the source's start position with empty state. Stop the job first."
    )

    @Option(help: "The job's name.")
    var job: String

    @OptionGroup var sink: SinkArguments

    @Option(help: "Bootstrap servers, for a kafka:TOPIC sink.")
    var bootstrap: String?

    @OptionGroup(title: "Kafka security (for a kafka:TOPIC sink)") var kafkaSecurity: KafkaSecurityArguments

    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "sluice.reset")
        let kafka = try kafkaSecurity.resolve()
        kafka.logWarnings(logger)
        let (sinkSpecification, passwordWarning) = try sink.resolve()
        if let passwordWarning { logger.warning("\(passwordWarning)") }
        let store = try sinkSpecification.open(kafkaBootstrapServers: bootstrap, kafka: kafka)
        try await store.reset(job: job)
        logger.info("job '\(job)' reset in \(store.description)")
    }
}
