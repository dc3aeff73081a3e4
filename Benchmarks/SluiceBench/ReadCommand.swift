import ArgumentParser
import Foundation
import SluiceKafka

/// The Swift side of the consume benchmark, run as its own process so its
/// peak RSS is measured like the C reader's: reads COUNT records from every
/// partition with `KafkaConsumer.poll` and prints "records N bytes B seconds S".
/// Same consumer properties as Benchmarks/consume/consume_c.c.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read", abstract: "Read a topic with KafkaConsumer (benchmark child).")

    @Option var bootstrap: String
    @Option var topic: String
    @Option var partitions: Int
    @Option var count: Int
    @Flag(inversion: .prefixedNo, help: "Read each record's headers (KafkaConsumerConfiguration.readsHeaders).") var headers = true

    func run() throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: "bench-swift-reader")
        configuration.fetch.queuedMinMessages = 1_000_000
        configuration.readsHeaders = headers
        let consumer = try KafkaConsumer(configuration: configuration)
        let start = ContinuousClock.now
        var starts: [KafkaTopicPartition: KafkaStartOffset] = [:]
        for partition in 0..<partitions { starts[KafkaTopicPartition(topic: topic, partition: Int32(partition))] = .beginning }
        try consumer.assign(starts)
        var received = 0
        var first: Duration?
        var bytes = 0
        let deadline = start + .seconds(300)
        while received < count && ContinuousClock.now < deadline {
            let records = try consumer.pollBatch(maxRecords: 10_000, timeout: .milliseconds(100))
            if first == nil && !records.isEmpty { first = ContinuousClock.now - start }
            received += records.count
            for record in records { bytes += record.value.count }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let firstSeconds = first.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
        print("records \(received) bytes \(bytes) seconds \(String(format: "%.6f", seconds)) hwm \(Measure.statusBytes("VmHWM")) first \(String(format: "%.6f", firstSeconds))")
        try consumer.close()
        if received != count { throw ExitCode(1) }
    }
}
