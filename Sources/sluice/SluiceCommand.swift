import ArgumentParser
import Logging

/// `sluice`: stream analytics on Kafka in micro-batches.
@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Stream analytics on Kafka in micro-batches, with exactly-once results.",
        subcommands: [DemoCommand.self, BrokerCommand.self, ProduceCommand.self, TailCommand.self, WordCountCommand.self, RunCommand.self, ResetCommand.self]
    )
}

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    /// Sends swift-log output to standard error at the chosen level.
    func bootstrapLogging() {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
