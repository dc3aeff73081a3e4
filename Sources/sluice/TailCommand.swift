import ArgumentParser
import Foundation
import Logging
import SluiceJobs
import SluiceKafka

/// `sluice tail`: print a topic's records as they come, kcat-style.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print each record of a topic on its own line as it arrives.",
        discussion: """
            Without --group, reads every partition directly (no group join). With --group, joins \
            that consumer group and commits what it printed.
            Formats: value (the value alone), detailed (topic[partition]@offset key=… value), json.
            """
    )

    enum Start: String, ExpressibleByArgument, CaseIterable {
        case earliest, latest
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case value, detailed, json
    }

    @Option(help: "Bootstrap servers, host:port[,host:port…].")
    var bootstrap: String

    @Option(help: "Topic to read.")
    var topic: String

    @Option(help: "Consumer group to join (and commit for); omit to read all partitions without a group.")
    var group: String?

    @Option(help: "Where to start without a committed offset: earliest or latest.")
    var from: Start = .latest

    @Option(help: "Line format: value, detailed, json.")
    var format: Format = .value

    @Option(help: "Exit after printing this many records.")
    var count: Int?

    @Option(help: "Exit when no record arrived for this many seconds.")
    var idleExit: Double?

    @OptionGroup(title: "Kafka security") var kafkaSecurity: KafkaSecurityArguments

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.bootstrapLogging()
        let logger = Logger(label: "sluice.tail")
        let kafka = try kafkaSecurity.resolve()
        kafka.logWarnings(logger)
        let signals = SignalWatcher()
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: group)
        configuration.autoOffsetReset = from == .earliest ? .earliest : .latest
        configuration.session.timeout = .seconds(10)
        configuration.session.heartbeatInterval = .seconds(1)
        kafka.apply(to: &configuration)
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        if group != nil {
            try consumer.subscribe(topics: [topic])
        } else {
            let partitions = try consumer.partitionCount(of: topic)
            var starts: [KafkaTopicPartition: KafkaStartOffset] = [:]
            for partition in 0..<partitions {
                starts[KafkaTopicPartition(topic: topic, partition: Int32(partition))] = from == .earliest ? .beginning : .end
            }
            try consumer.assign(starts)
        }

        var output = StandardOutput()
        var printed = 0
        var lastRecord = ContinuousClock.now
        while !signals.isStopped {
            let limit = count.map { $0 - printed } ?? 10_000
            if limit <= 0 { break }
            let records = try consumer.poll(maxRecords: min(limit, 10_000), timeout: .milliseconds(200))
            if records.isEmpty {
                if let idleExit, ContinuousClock.now - lastRecord >= .seconds(idleExit) { break }
                continue
            }
            lastRecord = .now
            var next: [KafkaTopicPartition: Int64] = [:]
            for record in records {
                output.write(line(for: record))
                next[record.topicPartition] = record.offset + 1
            }
            output.flush()
            printed += records.count
            if group != nil { try consumer.commitAsync(next) }
        }
        output.flush()
        try consumer.close()
    }

    private func line(for record: KafkaRecord) -> ArraySlice<UInt8> {
        switch format {
        case .value:
            return record.value
        case .detailed:
            let key = record.keyString ?? (record.key == nil ? "∅" : "<\(record.key?.count ?? 0) bytes>")
            let ts = record.timestamp.map { " ts=\($0.milliseconds)" } ?? ""
            return (Array("\(record.topic)[\(record.partition)]@\(record.offset)\(ts) key=\(key) ".utf8) + record.value)[...]
        case .json:
            var object: [String: Any] = ["topic": record.topic, "partition": record.partition, "offset": record.offset]
            object["key"] = record.keyString
            object["value"] = record.valueString ?? String(decoding: record.value, as: UTF8.self)
            if let ts = record.timestamp { object["timestamp"] = ts.milliseconds }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return Array(data)[...]
        }
    }
}

/// Buffers lines and writes them to file descriptor 1 in large writes.
struct StandardOutput {
    private var buffer: [UInt8] = []

    mutating func write<Bytes: Collection<UInt8>>(_ line: Bytes) {
        buffer += line
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 64 * 1024 { flush() }
    }

    mutating func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { Glibc.write(1, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written <= 0 { break }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
