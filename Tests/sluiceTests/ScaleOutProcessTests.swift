import Foundation
import GRDB
import Logging
import PostgresNIO
import SluiceKafka
import SluicePostgres
import SluicePostgresTesting
import SluiceSQLite
import XCTest

/// Processes of one `sluice run wordcount` job in one consumer group share
/// its tasks (DESIGN.md, "Scale-out"): the input's partitions for the first
/// stage, the repartition topics' for the second. Kills, joins and pauses
/// move tasks between them; the final `word_counts` must equal a plain count
/// of the input. The mock cluster runs in its own process (`sluice broker`).
final class ScaleOutProcessTests: XCTestCase {
    let records = 90_000
    let seed: UInt64 = 31

    private struct Cluster {
        let broker: SluiceProcess
        let bootstrap: String
        let sink: Sink
        let job: [String]
    }

    /// Where the job commits, and how the test reads it back.
    private struct Sink {
        let argument: String
        /// Sum of job `scale`'s committed next offsets over `topic`'s partitions.
        let committed: @Sendable (_ topic: String) async throws -> Int
        let counts: @Sendable () async throws -> [String: Int64]

        static func sqlite(_ path: String) -> Sink {
            Sink(argument: "sqlite:\(path)",
                 committed: { try WordCountProcesses.committedInput(path, job: "scale", topic: $0) },
                 counts: { try WordCountProcesses.counts(path) })
        }

        static func postgres(_ url: String) throws -> Sink {
            let store = try PostgresStore(url: url)
            let logger = Logger(label: "sluice.scale-out-test")
            return Sink(
                argument: "postgres:\(url)",
                committed: { topic in
                    try await store.withConnection { connection in
                        let exists = try await connection.query("SELECT to_regclass('sluice_offsets') IS NOT NULL", logger: logger)
                            .collect().first?.decode(Bool.self) ?? false
                        guard exists else { return 0 }
                        return Int(try await connection.query(
                            "SELECT COALESCE(SUM(next_offset), 0)::bigint FROM sluice_offsets WHERE job = 'scale' AND topic = \(topic)",
                            logger: logger).collect().first?.decode(Int64.self) ?? 0)
                    }
                },
                counts: {
                    try await store.withConnection { connection in
                        var counts: [String: Int64] = [:]
                        for try await (word, count) in try await connection.query("SELECT word, count FROM word_counts", logger: logger)
                            .decode((String, Int64).self) { counts[word] = count }
                        return counts
                    }
                })
        }
    }

    private func cluster(_ directory: URL, sink makeSink: (URL) throws -> Sink = { .sqlite($0.appendingPathComponent("scale.db").path) }) throws -> Cluster {
        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "lines:6",
                                        "--topic", "scale-words-repartition:6", "--topic", "scale-words-per-second-repartition:6"])
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "lines", "--count", "\(records)",
                                         "--seed", "\(seed)", "--compression", "lz4"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(120)), 0, produce.standardError)
        let sink = try makeSink(directory)
        // Paced (6 partitions × 1,000 records a second), so that the input
        // lasts while processes come and go.
        let job = ["run", "wordcount", "--bootstrap", bootstrap, "--topic", "lines", "--sink", sink.argument,
                   "--job", "scale", "--interval", "250ms", "--max-rate-per-partition", "1000", "--log-level", "info"]
        return Cluster(broker: broker, bootstrap: bootstrap, sink: sink, job: job)
    }

    private func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Records of the input the job committed.
    private func committed(_ cluster: Cluster) async -> Int {
        (try? await cluster.sink.committed("lines")) ?? 0
    }

    /// Whether the job committed all of its input and everything it wrote
    /// to its repartition topics (their high watermarks).
    private func done(_ cluster: Cluster) async -> Bool {
        guard await committed(cluster) == records, let admin = try? KafkaAdmin(bootstrapServers: cluster.bootstrap) else { return false }
        for topic in ["scale-words-repartition", "scale-words-per-second-repartition"] {
            var written = 0
            for partition in Int32(0)..<6 {
                guard let marks = try? admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: partition)) else { return false }
                written += Int(marks.high)
            }
            guard (try? await cluster.sink.committed(topic)) == written else { return false }
        }
        return true
    }

    /// Fails with `message` unless `ready` holds within `timeout`.
    private func expect(_ message: @autoclosure () -> String, timeout: Duration, _ ready: () async -> Bool) async {
        let held = await poll(timeout: timeout, ready)
        XCTAssertTrue(held, message())
    }

    /// Waits, polling the sink (whose commits raise no event here) every
    /// 100 ms, until `ready` holds or `timeout` passes.
    private func poll(timeout: Duration, _ ready: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while await !ready() {
            if ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return true
    }

    /// The rebalance pauses a process logged, in ms.
    private func pauses(_ process: SluiceProcess) -> [Int] {
        process.standardError.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "rebalance pause ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    func testThreeProcessesThroughAKillAJoinAndARestartGiveExactCounts() async throws {
        try await threeProcesses(sink: { .sqlite($0.appendingPathComponent("scale.db").path) })
    }

    func testThreeProcessesWithThePostgresSinkGiveExactCounts() async throws {
        let server = try PostgresTestServer.shared()
        try server.ensureRunning()
        let url = try server.makeDatabase("scale")
        try await threeProcesses(sink: { _ in try .postgres(url) })
    }

    /// Three processes of the job; one is killed, a fourth joins, the
    /// killed one comes back; then exact counts.
    private func threeProcesses(sink: (URL) throws -> Sink) async throws {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try cluster(directory, sink: sink)
        defer { cluster.broker.signal(SIGTERM); _ = try? cluster.broker.waitForExit(timeout: .seconds(15)) }

        var log: [String] = []
        var processes = try ["a", "b", "c"].map { ($0, try SluiceProcess(cluster.job)) }
        defer { for (_, process) in processes { process.signal(SIGKILL) } }
        await expect("the three processes commit", timeout: .seconds(60)) { await committed(cluster) >= records / 6 }

        let killed = processes.remove(at: 1)
        killed.1.signal(SIGKILL)
        _ = try killed.1.waitForExit(timeout: .seconds(10))
        log.append("kill -9 b at \(await committed(cluster)) records committed")

        await expect("a and c go on without b", timeout: .seconds(90)) { await committed(cluster) >= records / 2 }
        processes.append(("d", try SluiceProcess(cluster.job)))
        log.append("start d at \(await committed(cluster)) records committed")

        await expect("a, c and d go on", timeout: .seconds(90)) { await committed(cluster) >= records * 2 / 3 }
        processes.append(("b again", try SluiceProcess(cluster.job)))
        log.append("restart b at \(await committed(cluster)) records committed")

        await expect("the processes finish the input and what they repartitioned", timeout: .seconds(180)) { await done(cluster) }
        for (name, process) in processes {
            process.signal(SIGTERM)
            XCTAssertEqual(try process.waitForExit(timeout: .seconds(30)), 0, "\(name): \(process.standardError.suffix(2_000))")
        }
        for (name, process) in processes + [killed] {
            let opened = process.standardError.split(separator: "\n").filter { $0.contains("opened tasks") }.count
            log.append("\(name): opened tasks \(opened) times, rebalance pauses \(pauses(process)) ms")
        }
        print("scale-out test:\n" + log.joined(separator: "\n"))
        XCTAssertTrue(processes.allSatisfy { $0.1.standardError.contains("opened tasks") }, "every process held tasks")
        let counts = try await cluster.sink.counts()
        XCTAssertEqual(counts, WordCountProcesses.expectedCounts(records: records, seed: seed))
    }

    /// A process stopped (SIGSTOP) until the group moved its partitions,
    /// then continued: it commits nothing for the tasks it lost — its stale
    /// commits are refused and it stops, or it learns of the loss first and
    /// closes them — and the counts stay exact.
    func testAPausedProcessCannotCommitForTheTasksItLost() async throws {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try cluster(directory)
        defer { cluster.broker.signal(SIGTERM); _ = try? cluster.broker.waitForExit(timeout: .seconds(15)) }

        let zombie = try SluiceProcess(cluster.job)
        let survivor = try SluiceProcess(cluster.job)
        defer { zombie.signal(SIGKILL); survivor.signal(SIGKILL) }
        await expect("both processes hold tasks and commit", timeout: .seconds(60)) {
            await committed(cluster) >= records / 6 && zombie.standardError.contains("opened tasks") && survivor.standardError.contains("opened tasks")
        }
        let logged = survivor.standardError.count
        zombie.signal(SIGSTOP)
        // Its session expires (10 s) and the group gives everything to the survivor.
        await expect("the survivor takes every task: \(survivor.standardError.suffix(2_000))", timeout: .seconds(60)) { survivor.standardError.dropFirst(logged).contains("18 tasks owned") }
        zombie.signal(SIGCONT)

        await expect("the survivor finishes the input and what was repartitioned", timeout: .seconds(180)) { await done(cluster) }
        let refused = zombie.standardError.contains("was not committed for tasks")
        print("zombie test: the paused process \(refused ? "had its commits refused" : "closed the tasks it lost before committing")")
        survivor.signal(SIGTERM)
        XCTAssertEqual(try survivor.waitForExit(timeout: .seconds(30)), 0, survivor.standardError.suffix(2_000).description)
        zombie.signal(SIGTERM)
        _ = try zombie.waitForExit(timeout: .seconds(30))
        let actual = try await cluster.sink.counts()
        let expected = WordCountProcesses.expectedCounts(records: records, seed: seed)
        XCTAssertEqual(actual.values.reduce(0, +), expected.values.reduce(0, +), "every word occurrence counted once")
        if actual != expected {
            let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrap)
            for topic in ["lines", "scale-words-repartition"] {
                let marks = try (Int32(0)..<6).map { try admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: $0)) }
                print("\(topic): \(marks.map { "\($0.low)..<\($0.high)" })")
            }
            print("survivor batches:\n\(survivor.standardError.split(separator: "\n").filter { $0.contains(" records=") }.suffix(12).joined(separator: "\n"))")
            print("zombie:\n\(zombie.standardError.suffix(6_000))\nsurvivor:\n\(survivor.standardError.split(separator: "\n").filter { $0.contains("tasks") || $0.contains("error") || $0.contains("warning") }.joined(separator: "\n").suffix(6_000))")
        }
        XCTAssertEqual(actual, expected)
    }
}
