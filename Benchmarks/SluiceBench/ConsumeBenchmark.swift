import ArgumentParser
import Foundation
import SluiceKafka

/// Consume benchmark: fills a 4-partition embedded-cluster topic with
/// 100-byte records (lz4, so the mock keeps them all), then alternates the C
/// reader and the Swift reader, each a child process, and prints records/s,
/// the Swift/C ratio and peak RSS.
struct ConsumeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consume", abstract: "C reader vs KafkaConsumer on the same topic.")

    @Option(help: "Records in the topic.") var records: Int = 1_000_000
    @Option(help: "Partitions of the topic.") var partitions: Int32 = 4
    @Option(help: "Rounds per reader (median reported).") var rounds: Int = 3
    @Option(help: "Path of the compiled C reader (Benchmarks/consume/consume_c.c).") var cReader: String

    func run() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = "bench-consume"
        try cluster.createTopic(topic, partitions: partitions)
        print("embedded cluster at \(cluster.bootstrapServers); producing \(records) records of 100 bytes (lz4) into \(partitions) partitions")
        try fill(cluster: cluster, topic: topic)

        let selfPath = URL(fileURLWithPath: CommandLine.arguments[0]).path
        var cRuns: [Run] = []
        var swiftRuns: [Run] = []
        var noHeaderRuns: [Run] = []
        for round in 1...rounds {
            let c = try Run(ChildProcess.run(cReader, [cluster.bootstrapServers, topic, "\(partitions)", "\(records)"]), reader: "C")
            let swift = try Run(ChildProcess.run(selfPath, ["read", "--bootstrap", cluster.bootstrapServers, "--topic", topic,
                                                            "--partitions", "\(partitions)", "--count", "\(records)"]), reader: "Swift")
            let noHeaders = try Run(ChildProcess.run(selfPath, ["read", "--bootstrap", cluster.bootstrapServers, "--topic", topic,
                                                                "--partitions", "\(partitions)", "--count", "\(records)", "--no-headers"]),
                                    reader: "Swift without headers")
            print(String(format: "round %d: C %d records/s (first record after %.3f s), Swift %d (%.3f s), Swift without headers %d (%.3f s)",
                         round, Int(c.recordsPerSecond), c.firstRecordSeconds, Int(swift.recordsPerSecond), swift.firstRecordSeconds,
                         Int(noHeaders.recordsPerSecond), noHeaders.firstRecordSeconds))
            cRuns.append(c)
            swiftRuns.append(swift)
            noHeaderRuns.append(noHeaders)
        }
        let cMedian = median(cRuns.map(\.recordsPerSecond))
        let swiftMedian = median(swiftRuns.map(\.recordsPerSecond))
        print("")
        print("reader  records/s (median of \(rounds))  peak RSS")
        print("C       \(pad(Int(cMedian)))  \(cRuns.map(\.peakRSSBytes).max().map(megabytes) ?? "-")")
        let noHeadersMedian = median(noHeaderRuns.map(\.recordsPerSecond))
        print("Swift   \(pad(Int(swiftMedian)))  \(swiftRuns.map(\.peakRSSBytes).max().map(megabytes) ?? "-")")
        print("Swift, readsHeaders false \(pad(Int(noHeadersMedian)).dropFirst(18))  \(noHeaderRuns.map(\.peakRSSBytes).max().map(megabytes) ?? "-")")
        print(String(format: "Swift / C = %.2f×; without headers (the C reader reads none) %.2f×", swiftMedian / cMedian, noHeadersMedian / cMedian))
        // Both readers wait about as long for their first record (connection,
        // metadata, first fetch); the rate after it shows the client's own cost.
        let cAfter = median(cRuns.map(\.recordsPerSecondAfterFirst))
        let swiftAfter = median(swiftRuns.map(\.recordsPerSecondAfterFirst))
        let noHeadersAfter = median(noHeaderRuns.map(\.recordsPerSecondAfterFirst))
        print(String(format: "after the first record: C %d, Swift %d, without headers %d records/s (medians); Swift / C = %.2f×, without headers %.2f×",
                     Int(cAfter), Int(swiftAfter), Int(noHeadersAfter), swiftAfter / cAfter, noHeadersAfter / cAfter))
    }

    private func fill(cluster: MockCluster, topic: String) throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.compression = .lz4
        configuration.linger = .milliseconds(20)
        configuration.queueBufferingMaxMessages = 500_000
        configuration.additionalProperties["batch.num.messages"] = "10000"
        let producer = try KafkaProducer(configuration: configuration)
        let filler = Array(repeating: UInt8(ascii: "x"), count: 100)
        for index in 0..<records {
            var value = filler
            let stamp = Array(String(index).utf8)
            value.replaceSubrange(0..<stamp.count, with: stamp)
            try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(index % Int(partitions)), value: value))
        }
        try producer.flush(timeout: .seconds(300))
        try producer.close()
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        var total: Int64 = 0
        for partition in 0..<partitions {
            let marks = try admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: partition))
            guard marks.low == 0 else {
                throw BenchError("partition \(partition) lost its oldest records (low watermark \(marks.low)): the mock's retention was exceeded")
            }
            total += marks.high
        }
        guard total == Int64(records) else { throw BenchError("topic holds \(total) records, expected \(records)") }
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    private func pad(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, 27 - text.count)) + text
    }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}

/// One reader run, parsed from its "records N bytes B seconds S" line.
struct Run {
    var records: Int
    var seconds: Double
    var peakRSSBytes: Int
    /// Seconds from assign to the first record.
    var firstRecordSeconds: Double = 0
    var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    var recordsPerSecondAfterFirst: Double {
        seconds > firstRecordSeconds ? Double(records) / (seconds - firstRecordSeconds) : 0
    }

    init(_ result: ChildResult, reader: String) throws {
        let fields = result.output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard result.status == 0, fields.count >= 6, let records = Int(fields[1]), let seconds = Double(fields[5]) else {
            throw BenchError("\(reader) reader failed (status \(result.status)): \(result.output)")
        }
        self.records = records
        self.seconds = seconds
        // The reader's own VmHWM ("hwm B"): wait4's ru_maxrss also counts the
        // parent's memory after posix_spawn's vfork (the parent holds the mock cluster).
        if fields.count >= 8, fields[6] == "hwm", let hwm = Int(fields[7]), hwm > 0 {
            self.peakRSSBytes = hwm
        } else {
            self.peakRSSBytes = result.peakRSSBytes
        }
        if fields.count >= 10, fields[8] == "first", let first = Double(fields[9]) { firstRecordSeconds = first }
    }
}
