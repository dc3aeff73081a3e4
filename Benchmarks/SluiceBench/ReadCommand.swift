import ArgumentParser
import Foundation
import SluiceKafka

#if canImport(Glibc)
import Glibc
#endif

/// The Swift side of the consume benchmark, run as its own process so its
/// peak RSS is measured like the C reader's: reads COUNT records from every
/// partition with `KafkaConsumer.pollBatch` (or, with `--borrowing`,
/// `pollEach`) and prints "records N bytes B
/// seconds S hwm H first F cpu C poll P", as Benchmarks/consume/consume_c.c
/// does. The C reader is given this reader's librdkafka properties
/// (``consumerConfiguration(bootstrap:readsHeaders:)``).
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read", abstract: "Read a topic with KafkaConsumer (benchmark child).")

    @Option var bootstrap: String
    @Option var topic: String
    @Option var partitions: Int
    @Option var count: Int
    @Flag(inversion: .prefixedNo, help: "Read each record's headers (KafkaConsumerConfiguration.readsHeaders).") var headers = true
    @Flag(help: "Read with KafkaConsumer.pollEach (records lent in place) instead of pollBatch.") var borrowing = false
    @Flag(help: "Keep every polled batch until the end, as a batch holding the whole topic does (fresh memory for every record instead of the same few buffers).") var keep = false

    /// The reader's configuration; the C reader gets its librdkafka properties.
    static func consumerConfiguration(bootstrap: String, readsHeaders: Bool) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: "bench-reader")
        configuration.fetch.queuedMinMessages = 1_000_000
        configuration.readsHeaders = readsHeaders
        return configuration
    }

    func run() throws {
        // The poll loop blocks in librdkafka: it runs on a thread of its own,
        // not on the cooperative pool (as the direct stream's fetch thread).
        let outcome = Locked<Result<String, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            outcome.withLock { $0 = Result { try read() } }
            done.signal()
        }
        thread.name = "sluice-bench-read"
        thread.start()
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { throw ExitCode(1) }
        print(try result.get())
    }

    /// Reads the records; returns the result line.
    private func read() throws -> String {
        let consumer = try KafkaConsumer(configuration: Self.consumerConfiguration(bootstrap: bootstrap, readsHeaders: headers))
        let start = ContinuousClock.now
        let cpuStart = Self.cpuSeconds(CLOCK_PROCESS_CPUTIME_ID), pollStart = Self.cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
        var starts: [KafkaTopicPartition: KafkaStartOffset] = [:]
        for partition in 0..<partitions { starts[KafkaTopicPartition(topic: topic, partition: Int32(partition))] = .beginning }
        try consumer.assign(starts)
        var received = 0
        var first: Duration?
        var bytes = 0
        var kept: [KafkaRecordBatch] = []
        let deadline = start + .seconds(300)
        while received < count && ContinuousClock.now < deadline {
            let polled: Int
            if borrowing {
                // As the C reader: each record's value length, in place.
                polled = try consumer.pollEach(maxRecords: 10_000, timeout: .milliseconds(100)) { record in
                    bytes += record.value.count
                }
            } else {
                let records = try consumer.pollBatch(maxRecords: 10_000, timeout: .milliseconds(100))
                polled = records.count
                if keep { kept.append(records) }
                for record in records { bytes += record.value.count }
            }
            if first == nil && polled > 0 { first = ContinuousClock.now - start }
            received += polled
        }
        let elapsed = ContinuousClock.now - start
        withExtendedLifetime(kept) {}
        let cpu = Self.cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpuStart, poll = Self.cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - pollStart
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let firstSeconds = first.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
        try consumer.close()
        guard received == count else { throw BenchError("read \(received) of \(count) records") }
        return "records \(received) bytes \(bytes) seconds \(String(format: "%.6f", seconds)) hwm \(Measure.statusBytes("VmHWM"))"
            + " first \(String(format: "%.6f", firstSeconds)) cpu \(String(format: "%.6f", cpu)) poll \(String(format: "%.6f", poll))"
    }

    /// CPU seconds of this process or of the calling thread
    /// (`CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID`).
    static func cpuSeconds(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
