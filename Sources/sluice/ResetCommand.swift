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

    @Option(help: "The job's sink, as given to `sluice run`.")
    var sink: String

    @Option(help: "Bootstrap servers, for a kafka:TOPIC sink.")
    var bootstrap: String?

    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        let store = try SinkSpecification(sink).open(kafkaBootstrapServers: bootstrap)
        try await store.reset(job: job)
        Logger(label: "sluice.reset").info("job '\(job)' reset in \(store.description)")
    }
}
