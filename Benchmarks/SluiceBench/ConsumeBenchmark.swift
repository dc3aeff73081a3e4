import ArgumentParser
import Foundation
import SluiceKafka

/// Consume benchmark: fills a 4-partition embedded-cluster topic with
/// 100-byte records (lz4, so the mock keeps them all), then alternates the C
/// reader (without and with reading headers), the Swift reader (with and
/// without headers) and the Swift reader lending records in place
/// (`pollEach`), each a child process with the same librdkafka
/// settings, and prints records/s end to end and after the first record,
/// CPU per record, the Swift/C ratios and peak RSS.
struct ConsumeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consume", abstract: "C reader vs KafkaConsumer on the same topic.")

    @Option(help: "Records in the topic.") var records: Int = 1_000_000
    @Option(help: "Partitions of the topic.") var partitions: Int32 = 4
    @Option(help: "Rounds per reader (median reported).") var rounds: Int = 5
    @Option(help: "Path of the compiled C reader (Benchmarks/consume/consume_c.c).") var cReader: String

    func run() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = "bench-consume"
        try cluster.createTopic(topic, partitions: partitions)
        print("embedded cluster at \(cluster.bootstrapServers); producing \(records) records of 100 bytes (lz4) into \(partitions) partitions")
        try fill(cluster: cluster, topic: topic)

        let selfPath = URL(fileURLWithPath: CommandLine.arguments[0]).path
        // Both C readers run with the Swift reader's librdkafka properties.
        let properties = ReadCommand.consumerConfiguration(bootstrap: cluster.bootstrapServers, readsHeaders: true)
            .librdkafkaProperties.map { "\($0.name)=\($0.value)" }
        let cArguments = [cluster.bootstrapServers, topic, "\(partitions)", "\(records)"]
        let swiftArguments = ["read", "--bootstrap", cluster.bootstrapServers, "--topic", topic, "--partitions", "\(partitions)", "--count", "\(records)"]
        let readers: [(name: String, path: String, arguments: [String])] = [
            ("C", cReader, cArguments + properties),
            ("C, reading headers", cReader, cArguments + ["--headers"] + properties),
            ("Swift", selfPath, swiftArguments),
            ("Swift, readsHeaders false", selfPath, swiftArguments + ["--no-headers"]),
            // pollEach: each record read in place, its value's length taken,
            // as the C reader does; it asks for no headers, so its baseline
            // is the C reader without them.
            ("Swift, borrowing view", selfPath, swiftArguments + ["--borrowing"]),
        ]
        var runs = Array(repeating: [Run](), count: readers.count)
        for round in 1...rounds {
            var line = "round \(round):"
            for (index, reader) in readers.enumerated() {
                let run = try Run(ChildProcess.run(reader.path, reader.arguments), reader: reader.name)
                runs[index].append(run)
                line += " \(reader.name) \(Int(run.recordsPerSecond)) records/s" + String(format: " (first after %.3f s);", run.firstRecordSeconds)
            }
            print(line)
        }
        print("")
        print("reader                     records/s   after the first record   CPU µs/record (polling thread)   peak RSS   (medians of \(rounds), RSS max)")
        for (index, reader) in readers.enumerated() {
            let figures = String(format: " %10d   %22d   %14.3f (%.3f)   ", Int(median(runs[index].map(\.recordsPerSecond))),
                                 Int(median(runs[index].map(\.recordsPerSecondAfterFirst))), median(runs[index].map(\.cpuMicrosecondsPerRecord)),
                                 median(runs[index].map(\.pollingMicrosecondsPerRecord)))
            let rss = runs[index].map(\.peakRSSBytes).max().map(megabytes) ?? "-"
            print(reader.name.padding(toLength: 25, withPad: " ", startingAt: 0) + figures + String(repeating: " ", count: max(0, 8 - rss.count)) + rss)
        }
        let (c, cHeaders, swift, swiftNoHeaders, swiftView) = (runs[0], runs[1], runs[2], runs[3], runs[4])
        func ratio(_ a: [Run], _ b: [Run], _ rate: (Run) -> Double) -> Double { median(a.map(rate)) / median(b.map(rate)) }
        print(String(format: "Swift / C = %.2f×; without headers (the C reader reads none) %.2f×; Swift / C reading headers %.2f×",
                     ratio(swift, c, \.recordsPerSecond), ratio(swiftNoHeaders, c, \.recordsPerSecond),
                     ratio(swift, cHeaders, \.recordsPerSecond)))
        // The rate after the first record leaves out connecting, metadata and
        // the first fetch, which the readers do alike.
        print(String(format: "after the first record: Swift / C = %.2f×; without headers %.2f×; Swift / C reading headers %.2f×",
                     ratio(swift, c, \.recordsPerSecondAfterFirst), ratio(swiftNoHeaders, c, \.recordsPerSecondAfterFirst),
                     ratio(swift, cHeaders, \.recordsPerSecondAfterFirst)))
        print(String(format: "borrowing view (pollEach) / C = %.2f×; after the first record %.2f×",
                     ratio(swiftView, c, \.recordsPerSecond), ratio(swiftView, c, \.recordsPerSecondAfterFirst)))
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

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}

/// One reader run, parsed from its "records N bytes B seconds S hwm H first
/// F cpu C poll P" line.
struct Run {
    var records: Int
    var seconds: Double
    var peakRSSBytes: Int
    /// Seconds from assign to the first record.
    var firstRecordSeconds: Double = 0
    /// CPU seconds of the whole process and of the polling thread, from
    /// assign to the last record.
    var cpuSeconds: Double = 0
    var pollingCPUSeconds: Double = 0
    var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    var recordsPerSecondAfterFirst: Double {
        seconds > firstRecordSeconds ? Double(records) / (seconds - firstRecordSeconds) : 0
    }
    var cpuMicrosecondsPerRecord: Double { records > 0 ? cpuSeconds * 1e6 / Double(records) : 0 }
    var pollingMicrosecondsPerRecord: Double { records > 0 ? pollingCPUSeconds * 1e6 / Double(records) : 0 }

    init(_ result: ChildResult, reader: String) throws {
        let fields = result.output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        var values: [Substring: Double] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) { values[fields[index]] = Double(fields[index + 1]) }
        guard result.status == 0, let records = values["records"], let seconds = values["seconds"] else {
            throw BenchError("\(reader) reader failed (status \(result.status)): \(result.output)")
        }
        self.records = Int(records)
        self.seconds = seconds
        // The reader's own VmHWM ("hwm B"): wait4's ru_maxrss also counts the
        // parent's memory after posix_spawn's vfork (the parent holds the mock cluster).
        if let hwm = values["hwm"], hwm > 0 {
            self.peakRSSBytes = Int(hwm)
        } else {
            self.peakRSSBytes = result.peakRSSBytes
        }
        firstRecordSeconds = values["first"] ?? 0
        cpuSeconds = values["cpu"] ?? 0
        pollingCPUSeconds = values["poll"] ?? 0
    }
}
