import ArgumentParser
import Foundation
import Logging
import SluiceKafka

/// `sluice broker`: an embedded Kafka cluster (librdkafka's mock brokers) on loopback.
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an embedded Kafka cluster on 127.0.0.1 until SIGINT/SIGTERM.",
        discussion: """
            Prints `bootstrap <host:port,...>` on standard output once the brokers listen.
            The brokers speak the real Kafka protocol; transactions are accepted but not emulated.
            """
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 3

    @Option(help: "Also accept bootstrap connections on this 127.0.0.1 port (forwarded to broker 1).")
    var port: Int?

    @Option(name: .customLong("topic"), help: "A topic to create, as name:partitions (repeatable).")
    var topics: [TopicSpec] = []

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1, not \(brokers)") }
        if let port, !(1...65_535).contains(port) { throw ValidationError("--port must be 1…65535, not \(port)") }
    }

    func run() throws {
        common.bootstrapLogging()
        let logger = Logger(label: "sluice.broker")
        let signals = SignalWatcher()
        let cluster = try MockCluster(brokers: brokers, logger: logger)
        for topic in topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions)
        }
        var bootstrap = cluster.bootstrapServers
        var forwarder: LoopbackPortForwarder?
        if let port {
            let firstBroker = String(cluster.bootstrapServers.split(separator: ",").first ?? "")
            forwarder = try LoopbackPortForwarder(listenPort: UInt16(port), target: firstBroker, logger: logger)
            bootstrap = "127.0.0.1:\(port)," + cluster.bootstrapServers
        }
        var output = StandardOutput()
        output.write(Array("bootstrap \(bootstrap)".utf8))
        output.flush()
        logger.info("embedded Kafka cluster of \(brokers) brokers at \(bootstrap); topics: \(topics.map(\.description).joined(separator: ", ")); stop with Ctrl-C")
        signals.wait()
        logger.info("stopping the embedded Kafka cluster")
        forwarder?.stop()
        withExtendedLifetime(cluster) {}
    }
}

/// `name:partitions`, as in `--topic page-views:4`.
struct TopicSpec: ExpressibleByArgument, CustomStringConvertible {
    var name: String
    var partitions: Int32

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return nil }
        self.name = String(name)
        if parts.count == 2 {
            guard let count = Int32(parts[1]), count >= 1 else { return nil }
            partitions = count
        } else {
            partitions = 1
        }
    }

    var description: String { "\(name):\(partitions)" }
}
