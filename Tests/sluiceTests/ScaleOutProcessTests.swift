import Foundation
import GRDB
import SluiceSQLite
import SluiceKafka
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
        let database: String
        let job: [String]
    }

    private func cluster(_ directory: URL) throws -> Cluster {
        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "lines:6",
                                        "--topic", "scale-words-repartition:6", "--topic", "scale-words-per-second-repartition:6"])
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "lines", "--count", "\(records)",
                                         "--seed", "\(seed)", "--compression", "lz4"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(120)), 0, produce.standardError)
        let database = directory.appendingPathComponent("scale.db").path
        // Paced (6 partitions × 1,000 records a second), so that the input
        // lasts while processes come and go.
        let job = ["run", "wordcount", "--bootstrap", bootstrap, "--topic", "lines", "--sink", "sqlite:\(database)",
                   "--job", "scale", "--interval", "250ms", "--max-rate-per-partition", "1000", "--log-level", "info"]
        return Cluster(broker: broker, bootstrap: bootstrap, database: database, job: job)
    }

    private func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Records of the input the job committed.
    private func committed(_ cluster: Cluster) -> Int {
        (try? WordCountProcesses.committedInput(cluster.database, job: "scale")) ?? 0
    }

    /// Whether the job committed all of its input and everything it wrote
    /// to its repartition topics.
    private func done(_ cluster: Cluster) -> Bool {
        WordCountProcesses.isDone(cluster.database, job: "scale", records: records, bootstrap: cluster.bootstrap, partitions: 6)
    }

    /// Waits, polling the sink (whose commits raise no event here) every
    /// 100 ms, until `ready` holds or `timeout` passes.
    private func poll(timeout: Duration, _ ready: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !ready() {
            if ContinuousClock.now > deadline { return false }
            Thread.sleep(forTimeInterval: 0.1)
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

    func testThreeProcessesThroughAKillAJoinAndARestartGiveExactCounts() throws {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try cluster(directory)
        defer { cluster.broker.signal(SIGTERM); _ = try? cluster.broker.waitForExit(timeout: .seconds(15)) }

        var log: [String] = []
        var processes = try ["a", "b", "c"].map { ($0, try SluiceProcess(cluster.job)) }
        defer { for (_, process) in processes { process.signal(SIGKILL) } }
        XCTAssertTrue(poll(timeout: .seconds(60)) { committed(cluster) >= records / 6 }, "the three processes commit")

        let killed = processes.remove(at: 1)
        killed.1.signal(SIGKILL)
        _ = try killed.1.waitForExit(timeout: .seconds(10))
        log.append("kill -9 b at \(committed(cluster)) records committed")

        XCTAssertTrue(poll(timeout: .seconds(90)) { committed(cluster) >= records / 2 }, "a and c go on without b")
        processes.append(("d", try SluiceProcess(cluster.job)))
        log.append("start d at \(committed(cluster)) records committed")

        XCTAssertTrue(poll(timeout: .seconds(90)) { committed(cluster) >= records * 2 / 3 }, "a, c and d go on")
        processes.append(("b again", try SluiceProcess(cluster.job)))
        log.append("restart b at \(committed(cluster)) records committed")

        XCTAssertTrue(poll(timeout: .seconds(180)) { done(cluster) }, "the processes finish the input and what they repartitioned")
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
        XCTAssertEqual(try WordCountProcesses.counts(cluster.database), WordCountProcesses.expectedCounts(records: records, seed: seed))
    }

    /// A process stopped (SIGSTOP) until the group moved its partitions,
    /// then continued: it commits nothing for the tasks it lost — its stale
    /// commits are refused and it stops, or it learns of the loss first and
    /// closes them — and the counts stay exact.
    func testAPausedProcessCannotCommitForTheTasksItLost() throws {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try cluster(directory)
        defer { cluster.broker.signal(SIGTERM); _ = try? cluster.broker.waitForExit(timeout: .seconds(15)) }

        let zombie = try SluiceProcess(cluster.job)
        let survivor = try SluiceProcess(cluster.job)
        defer { zombie.signal(SIGKILL); survivor.signal(SIGKILL) }
        XCTAssertTrue(poll(timeout: .seconds(60)) {
            committed(cluster) >= records / 6 && zombie.standardError.contains("opened tasks") && survivor.standardError.contains("opened tasks")
        }, "both processes hold tasks and commit")
        let logged = survivor.standardError.count
        zombie.signal(SIGSTOP)
        // Its session expires (10 s) and the group gives everything to the survivor.
        XCTAssertTrue(poll(timeout: .seconds(60)) { survivor.standardError.dropFirst(logged).contains("18 tasks owned") },
                      "the survivor takes every task: \(survivor.standardError.suffix(2_000))")
        zombie.signal(SIGCONT)

        XCTAssertTrue(poll(timeout: .seconds(180)) { done(cluster) }, "the survivor finishes the input and what was repartitioned")
        let refused = zombie.standardError.contains("was not committed for tasks")
        print("zombie test: the paused process \(refused ? "had its commits refused" : "closed the tasks it lost before committing")")
        survivor.signal(SIGTERM)
        XCTAssertEqual(try survivor.waitForExit(timeout: .seconds(30)), 0, survivor.standardError.suffix(2_000).description)
        zombie.signal(SIGTERM)
        _ = try zombie.waitForExit(timeout: .seconds(30))
        let actual = try WordCountProcesses.counts(cluster.database)
        let expected = WordCountProcesses.expectedCounts(records: records, seed: seed)
        XCTAssertEqual(actual.values.reduce(0, +), expected.values.reduce(0, +), "every word occurrence counted once")
        if actual != expected {
            let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrap)
            for topic in ["lines", "scale-words-repartition"] {
                let marks = try (Int32(0)..<6).map { try admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: $0)) }
                print("\(topic): \(marks.map { "\($0.low)..<\($0.high)" })")
            }
            let offsets = try SQLiteStore(path: cluster.database).read { db in
                try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset FROM sluice_offsets ORDER BY topic, partition").map { "\($0["topic"] as String)-\($0["partition"] as Int64)@\($0["next_offset"] as Int64)" }
            }
            print("committed: \(offsets)")
            print("survivor batches:\n\(survivor.standardError.split(separator: "\n").filter { $0.contains(" records=") }.suffix(12).joined(separator: "\n"))")
            print("zombie:\n\(zombie.standardError.suffix(6_000))\nsurvivor:\n\(survivor.standardError.split(separator: "\n").filter { $0.contains("tasks") || $0.contains("error") || $0.contains("warning") }.joined(separator: "\n").suffix(6_000))")
        }
        XCTAssertEqual(actual, expected)
    }
}
