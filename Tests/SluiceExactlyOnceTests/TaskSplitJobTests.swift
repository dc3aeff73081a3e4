import Foundation
import GRDB
import Sluice
import SluiceKafka
@testable import SluiceKafkaStream
import SluiceSQLite
import SluiceTesting
import XCTest

/// A job split into tasks (a topic keyed by user, `partitionsAreTasks`):
/// running totals per user with `updateStateByKey`, exactly once into
/// SQLite. Each partition's state is stored and restored on its own, and
/// two contexts of the job in one consumer group share the partitions,
/// each committing its own, with totals equal to a plain sum of the input.
final class TaskSplitJobTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-tasks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    static let partitions: Int32 = 4
    static let table = ResultTable(
        name: "totals", columns: [ResultColumn("user", .text), ResultColumn("total", .integer)], mode: .upsert(key: ["user"]))

    /// Record i: user `u<i % 20>` spends `i % 7 + 1`; a user's records all go
    /// to partition `user % 4`, so the topic is keyed by the state's key.
    static func record(_ index: Int) -> (user: String, amount: Int64, partition: Int32) {
        let user = index % 20
        return ("u\(user)", Int64(index % 7 + 1), Int32(user % Int(partitions)))
    }

    static func produce(_ indices: Range<Int>, topic: String, cluster: MockCluster) throws {
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        for index in indices {
            let record = record(index)
            try producer.send(KafkaProducerMessage(topic: topic, partition: record.partition, key: record.user, value: "\(record.user) \(record.amount)"))
        }
        try producer.flush(timeout: .seconds(60))
        try producer.close()
    }

    /// A mock cluster whose topic holds records `0..<count`.
    static func cluster(holding count: Int) throws -> (MockCluster, String) {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("spend")
        try cluster.createTopic(topic, partitions: partitions)
        try produce(0..<count, topic: topic, cluster: cluster)
        return (cluster, topic)
    }

    static func expectedTotals(_ indices: Range<Int>) -> [String: Int64] {
        var totals: [String: Int64] = [:]
        for index in indices { totals[record(index).user, default: 0] += record(index).amount }
        return totals
    }

    /// Defines the job on `driver`'s context; returns its source.
    @discardableResult
    static func define(on driver: StreamTestDriver, cluster: MockCluster, topic: String, path: String, group: Bool) async throws -> KafkaDirectSource {
        let partitions = (0..<Self.partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
        var source = KafkaSourceConfiguration(
            bootstrapServers: cluster.bootstrapServers, subscription: group ? .topics([topic]) : .partitions(partitions), groupID: "totals")
        source.startingPosition = .earliest
        source.partitionsAreTasks = true
        source.maxRatePerPartition = 40
        source.readTimeout = .seconds(20)
        source.consumer = KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: "totals")
        let input = KafkaDirectSource(configuration: source)
        let totals = driver.context.kafkaDirectStream(input)
            .map { record -> (String, Int64) in
                let fields = (record.valueString ?? "").split(separator: " ")
                return (String(fields[0]), Int64(fields[1]) ?? 0)
            }
            .updateStateByKey(name: "totals") { (amounts: [Int64], total: Int64?) in (total ?? 0) + amounts.reduce(0, +) }
        try await totals.saveExactlyOnce(to: try SQLiteStore(path: path), job: "totals", table: table) { [.text($0.0), .integer($0.1)] }
        return input
    }

    func tableTotals(_ path: String) throws -> [String: Int64] {
        try SQLiteStore(path: path).read { db in
            var totals: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user, total FROM totals") { totals[row["user"]] = row["total"] }
            return totals
        }
    }

    func committedRecords(_ path: String) throws -> Int64 {
        try SQLiteStore(path: path).read { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(next_offset), 0) FROM sluice_offsets WHERE job = 'totals'") ?? 0
        }
    }

    func testEachTaskIsStoredOnItsOwnAndARestartRestoresIt() async throws {
        let (cluster, topic) = try Self.cluster(holding: 400)
        let path = directory.appendingPathComponent("tasks.db").path

        let first = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        try await Self.define(on: first, cluster: cluster, topic: topic, path: path, group: false)
        try first.start()
        try await first.runBatches(2)
        await first.stop(graceful: true)
        let afterFirst = try committedRecords(path)
        XCTAssertGreaterThan(afterFirst, 0)
        XCTAssertLessThan(afterFirst, 400, "the first run stopped before the end (40 records a partition a second)")

        // One state and one owner row per task.
        let stored = try SQLiteStore(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT operator FROM sluice_state WHERE job = 'totals' AND operator LIKE 'totals@%' ORDER BY operator")
        }
        XCTAssertEqual(stored, (0..<Self.partitions).map { "totals@\(topic)-\($0)" })
        let owners = try SQLiteStore(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT task FROM sluice_owners WHERE job = 'totals' ORDER BY task")
        }
        XCTAssertEqual(owners, (0..<Self.partitions).map { "\(topic)-\($0)" })

        try Self.produce(400..<600, topic: topic, cluster: cluster)
        let second = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30), startingAt: .seconds(10))
        try await Self.define(on: second, cluster: cluster, topic: topic, path: path, group: false)
        try second.start()
        for _ in 0..<10 where try committedRecords(path) < 600 {
            try await second.runBatches(1)
        }
        await second.stop(graceful: true)
        XCTAssertEqual(try committedRecords(path), 600)
        XCTAssertEqual(try tableTotals(path), Self.expectedTotals(0..<600))
    }

    /// Two contexts of the job in one group: the second's arrival moves
    /// partitions (cooperative-sticky) and their state with them, each
    /// partition is then read by one context only, and the totals are exact.
    func testTwoContextsInOneGroupShareTheTasksWithExactTotals() async throws {
        let (cluster, topic) = try Self.cluster(holding: 400)
        let path = directory.appendingPathComponent("group.db").path

        let first = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        let firstSource = try await Self.define(on: first, cluster: cluster, topic: topic, path: path, group: true)
        try first.start()
        // The group protocol runs in real time: each batch waits for the
        // fetch thread to hold records (the assignment brings them).
        for _ in 0..<30 where try committedRecords(path) == 0 {
            _ = await firstSource.waitForFetchedRecords(timeout: .seconds(10))
            try await first.runBatches(1)
        }
        XCTAssertGreaterThan(try committedRecords(path), 0)

        let second = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        let secondSource = try await Self.define(on: second, cluster: cluster, topic: topic, path: path, group: true)
        try second.start()
        // Both run until the second reads partitions of its own.
        func partitions(_ info: BatchInfo) -> Set<Int32> { Set(info.offsetRanges.map(\.partition)) }
        var rounds = 0
        while rounds < 40, (second.completedInfos.last.map(partitions) ?? []).isEmpty {
            _ = await secondSource.waitForFetchedRecords(timeout: .seconds(2))
            try await first.runBatches(1)
            try await second.runBatches(1)
            rounds += 1
        }
        let split = (first: first.completedInfos.last.map(partitions) ?? [], second: second.completedInfos.last.map(partitions) ?? [])
        XCTAssertFalse(split.second.isEmpty, "the second context got partitions")
        XCTAssertTrue(split.first.isDisjoint(with: split.second), "no partition is read by both: \(split)")

        try Self.produce(400..<700, topic: topic, cluster: cluster)
        // Rebalances may go on meanwhile (in real time): bounded by a deadline.
        let deadline = ContinuousClock.now + .seconds(60)
        while try committedRecords(path) < 700, ContinuousClock.now < deadline {
            let before = try committedRecords(path)
            try await first.runBatches(1)
            try await second.runBatches(1)
            if try committedRecords(path) == before {
                _ = await firstSource.waitForFetchedRecords(timeout: .milliseconds(500))
                _ = await secondSource.waitForFetchedRecords(timeout: .milliseconds(500))
            }
        }
        await first.stop(graceful: true)
        await second.stop(graceful: true)
        XCTAssertEqual(try committedRecords(path), 700)
        XCTAssertEqual(try tableTotals(path), Self.expectedTotals(0..<700), "totals of both contexts, each user's by the owner of its partition")
    }

    /// A second context reading every partition claims every task: the
    /// first one's next commit is refused task by task, it stops with
    /// `fenced`, and the second goes on from what the first committed.
    func testCommitsOfTasksClaimedByAnotherContextAreRefused() async throws {
        let (cluster, topic) = try Self.cluster(holding: 400)
        let path = directory.appendingPathComponent("fenced.db").path

        let first = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        try await Self.define(on: first, cluster: cluster, topic: topic, path: path, group: false)
        try first.start()
        try await first.runBatches(1)
        let before = try committedRecords(path)
        XCTAssertGreaterThan(before, 0)

        let second = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30), startingAt: .seconds(1))
        try await Self.define(on: second, cluster: cluster, topic: topic, path: path, group: false)
        try second.start()
        try await second.runBatches(1)  // its source started: every task is claimed
        let claimed = try committedRecords(path)

        do {
            try await first.runBatches(1)
            XCTFail("the first context's batch must not complete")
            await first.stop(graceful: false)
        } catch {
            do {
                try await first.context.awaitTermination()
                XCTFail("the first context must stop")
            } catch let error as StreamingError {
                XCTAssertEqual(error.code, .fenced, "\(error)")
            }
        }
        XCTAssertEqual(try committedRecords(path), claimed, "the refused batch committed nothing")

        for _ in 0..<20 where try committedRecords(path) < 400 { try await second.runBatches(1) }
        await second.stop(graceful: true)
        XCTAssertEqual(try tableTotals(path), Self.expectedTotals(0..<400))
    }
}
