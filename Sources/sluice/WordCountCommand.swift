import ArgumentParser
import Foundation
import Logging
import Sluice
import SluiceJobs
import SluiceKafka
import SluiceKafkaStream

/// `sluice wordcount`: Spark's NetworkWordCount, over a socket or a Kafka topic.
struct WordCountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wordcount",
        abstract: "Count words per batch (Spark's NetworkWordCount) from a socket or a Kafka topic.",
        discussion: """
            Prints each batch's counts in Spark's `print()` format. With --socket, reads lines \
            from a TCP server (e.g. `nc -lk 9999`); with --bootstrap and --topic, reads a topic \
            through the Kafka direct stream.
            """
    )

    @Option(help: "Read lines from this TCP server, host:port.")
    var socket: String?

    @Option(help: "Bootstrap servers of the Kafka cluster.")
    var bootstrap: String?

    @Option(help: "Topic to read (with --bootstrap).")
    var topic: String?

    @Option(help: "Consumer group (with --bootstrap).")
    var group: String = "sluice-wordcount"

    @Option(help: "Where to start without committed offsets: earliest or latest.")
    var from: TailCommand.Start = .latest

    @Option(help: "Batch interval, e.g. 1s or 100ms.")
    var interval: DurationArgument = DurationArgument(argument: "1s")!

    @Option(help: "Elements printed per batch.")
    var show: Int = 10

    @Flag(help: "Print running totals of every word seen so far (Spark's StatefulNetworkWordCount).")
    var stateful = false

    @Option(help: "Count over a sliding window of this length, e.g. 30s (a multiple of the interval).")
    var window: DurationArgument?

    @Option(help: "How often the window slides, e.g. 10s (a multiple of the interval). Default: the interval.")
    var slide: DurationArgument?

    @OptionGroup(title: "Kafka security") var kafkaSecurity: KafkaSecurityArguments

    @OptionGroup var common: CommonOptions

    func validate() throws {
        switch (socket, bootstrap, topic) {
        case (.some, nil, nil): _ = try SocketAddress(socket ?? "")
        case (nil, .some, .some): break
        default: throw ValidationError("give either --socket host:port, or --bootstrap and --topic")
        }
        if stateful && window != nil { throw ValidationError("choose --stateful or --window, not both") }
        if slide != nil && window == nil { throw ValidationError("--slide needs --window") }
    }

    func run() async throws {
        let signals = SignalWatcher()
        common.bootstrapLogging()
        let logger = Logger(label: "sluice.wordcount")
        let context = try StreamingContext(batchInterval: interval.duration, configuration: StreamingConfiguration(logger: logger))
        let lines: DStream<String>
        if let socket {
            let address = try SocketAddress(socket)
            lines = context.socketTextStream(host: address.host, port: address.port)
        } else if let bootstrap, let topic {
            var source = KafkaSourceConfiguration(bootstrapServers: bootstrap, topics: [topic], groupID: group)
            source.startingPosition = from == .earliest ? .earliest : .latest
            let kafka = try kafkaSecurity.resolve()
            kafka.logWarnings(logger)
            kafka.apply(to: &source.consumer)
            lines = context.kafkaDirectStream(source).map { $0.valueString ?? "" }
        } else {
            throw ValidationError("give either --socket host:port, or --bootstrap and --topic")
        }
        let pairs = lines
            .flatMap { $0.split(separator: " ") }
            .map { (String($0), 1) }
        if stateful {
            // Every word seen so far with its running total, each batch.
            try pairs.updateStateByKey { (counts: [Int], total: Int?) -> Int? in (total ?? 0) + counts.reduce(0, +) }.print(show)
        } else if let window {
            // Each window's counts, kept up to date incrementally (old − leaving + entering);
            // words whose count fell to zero are dropped. Windows keep sliding over empty batches.
            try pairs.reduceByKeyAndWindow(
                +, inverse: -, window.duration, slide: slide?.duration, filter: { $0.1 > 0 }
            ).print(show)
        } else {
            try pairs.reduceByKey(+).print(show)
        }
        try context.start()
        try await context.awaitTerminationOrSignal(signals, logger: logger)
    }
}

/// `host:port`.
struct SocketAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
        let parts = text.split(separator: ":")
        guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65_535).contains(port) else {
            throw ValidationError("--socket must be host:port, not '\(text)'")
        }
        host = String(parts[0])
        self.port = port
    }
}
