import Foundation
import Sluice
import SluiceKafka
import SluiceKafkaSink
import SluiceKafkaStream
import SluiceTesting
import XCTest

/// The Kafka exactly-once store against the mock cluster: what a batch's
/// transaction writes (results keyed by word, changelog of state, offsets
/// and batch time), and recovery from the changelog. The mock does not
/// emulate transactions; fencing and isolation run against a real broker.
final class KafkaTransactionalStoreTests: XCTestCase {
    private let table = ResultTable(
        name: "word_counts", columns: [ResultColumn("word", .text), ResultColumn("count", .integer)], mode: .upsert(key: ["word"]))

    private func makeStore(_ cluster: MockCluster, output: String) throws -> KafkaTransactionalStore {
        try cluster.createTopic(output, partitions: 2)
        try cluster.createTopic("\(output)-changelog", partitions: 1)
        try cluster.createTopic("\(output)-dead-letters", partitions: 1)
        var configuration = KafkaTransactionalStore.Configuration(bootstrapServers: cluster.bootstrapServers, outputTopic: output)
        configuration.createChangelogTopic = false
        return KafkaTransactionalStore(configuration: configuration)
    }

    /// Every record of a topic, read from the beginning (bounded).
    private func readAll(_ topic: String, partitions: Int32, bootstrap: String) throws -> [KafkaRecord] {
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: bootstrap))
        defer { try? consumer.close() }
        var ends: [KafkaTopicPartition: Int64] = [:]
        for partition in 0..<partitions {
            let tp = KafkaTopicPartition(topic: topic, partition: partition)
            ends[tp] = try consumer.watermarks(of: tp).high
        }
        try consumer.assign(ends.mapValues { _ in KafkaStartOffset.beginning })
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while records.count < Int(ends.values.reduce(0, +)) && ContinuousClock.now < deadline {
            records += try consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200))
        }
        return records
    }

    func testABatchWritesResultsAndChangelogAndRecoveryReadsThemBack() async throws {
        let cluster = try MockCluster(brokers: 1)
        let output = KafkaTestEnvironment.uniqueName("counts")
        let store = try makeStore(cluster, output: output)
        let fresh = try await store.recover(job: "wc", table: table)
        XCTAssertNil(fresh.lastBatchTime)
        XCTAssertTrue(fresh.offsets.isEmpty)

        try await store.commit(BatchCommit(
            job: "wc", batchTime: Time(milliseconds: 1_000), table: table,
            rows: [[.text("a"), .integer(2)], [.text("b"), .integer(1)]],
            offsets: [SourceOffset(topic: "in", partition: 0, offset: 7)],
            stateChanges: [OperatorStateChange(name: "totals", encoding: "enc", delta: EncodedStateDelta(
                upserts: [EncodedStateEntry(key: Array("\"a\"".utf8), value: [2]), EncodedStateEntry(key: Array("\"b\"".utf8), value: [1])],
                deletes: []))]))
        try await store.commit(BatchCommit(
            job: "wc", batchTime: Time(milliseconds: 2_000), table: table,
            rows: [[.text("a"), .integer(5)]],
            offsets: [SourceOffset(topic: "in", partition: 0, offset: 9), SourceOffset(topic: "in", partition: 1, offset: 3)],
            stateChanges: [OperatorStateChange(name: "totals", encoding: "enc", delta: EncodedStateDelta(
                upserts: [EncodedStateEntry(key: Array("\"a\"".utf8), value: [5])], deletes: [Array("\"b\"".utf8)]))],
            deadLetters: [DeadLetter(topic: "in", partition: 1, offset: 2, error: "bad UTF-8", payload: [0xFF])]))
        store.close()

        let results = try readAll(output, partitions: 2, bootstrap: cluster.bootstrapServers)
        XCTAssertEqual(Set(results.map { "\($0.keyString ?? "-") → \($0.valueString ?? "")" }), ["a → a\t2", "b → b\t1", "a → a\t5"])
        let letters = try readAll("\(output)-dead-letters", partitions: 1, bootstrap: cluster.bootstrapServers)
        XCTAssertEqual(letters.map(\.keyString), ["in/1/2"])
        XCTAssertEqual(letters.first?.value, [0xFF], "the original payload")
        XCTAssertEqual(letters.first?.headers.first { $0.name == "error" }?.value, Array("bad UTF-8".utf8))

        let again = try makeStoreReusing(cluster, output: output)
        let recovered = try await again.recover(job: "wc", table: table)
        again.close()
        XCTAssertEqual(recovered.lastBatchTime, Time(milliseconds: 2_000))
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "in", partition: 0, offset: 9), SourceOffset(topic: "in", partition: 1, offset: 3)])
        XCTAssertEqual(recovered.operators["totals"]?.encoding, "enc")
        XCTAssertEqual(recovered.operators["totals"]?.entries, [EncodedStateEntry(key: Array("\"a\"".utf8), value: [5])], "b was deleted")

        let other = try makeStoreReusing(cluster, output: output)
        let otherJob = try await other.recover(job: "another", table: table)
        other.close()
        XCTAssertTrue(otherJob.offsets.isEmpty, "jobs sharing a changelog do not see each other's entries")

        try await makeStoreReusing(cluster, output: output).reset(job: "wc")
        let afterReset = try makeStoreReusing(cluster, output: output)
        let forgotten = try await afterReset.recover(job: "wc", table: table)
        afterReset.close()
        XCTAssertTrue(forgotten.offsets.isEmpty, "reset forgets offsets")
        XCTAssertTrue(forgotten.operators.isEmpty, "reset forgets state")
        XCTAssertNil(forgotten.lastBatchTime)
    }

    private func makeStoreReusing(_ cluster: MockCluster, output: String) throws -> KafkaTransactionalStore {
        var configuration = KafkaTransactionalStore.Configuration(bootstrapServers: cluster.bootstrapServers, outputTopic: output)
        configuration.createChangelogTopic = false
        return KafkaTransactionalStore(configuration: configuration)
    }

    func testInjectedProduceErrorsAreRetriedWithoutDuplicates() async throws {
        let cluster = try MockCluster(brokers: 1)
        let output = KafkaTestEnvironment.uniqueName("counts")
        let store = try makeStore(cluster, output: output)
        _ = try await store.recover(job: "wc", table: table)
        let notEnoughReplicas = KafkaError.Code(rawValue: 19), requestTimedOut = KafkaError.Code(rawValue: 7)
        cluster.pushRequestErrors(.produce, [notEnoughReplicas, requestTimedOut, notEnoughReplicas])
        let rows: [[ResultValue]] = (0..<50).map { [.text("w\($0)"), .integer(Int64($0))] }
        try await store.commit(BatchCommit(
            job: "wc", batchTime: Time(milliseconds: 1_000), table: table, rows: rows,
            offsets: [SourceOffset(topic: "in", partition: 0, offset: 50)], stateChanges: []))
        store.close()
        let results = try readAll(output, partitions: 2, bootstrap: cluster.bootstrapServers)
        XCTAssertEqual(results.count, 50, "each row once despite the retried produce requests")
        XCTAssertEqual(Set(results.compactMap(\.keyString)), Set((0..<50).map { "w\($0)" }))
    }

    func testCommitBeforeRecoveryIsRefused() async throws {
        let cluster = try MockCluster(brokers: 1)
        let store = try makeStore(cluster, output: KafkaTestEnvironment.uniqueName("counts"))
        do {
            try await store.commit(BatchCommit(job: "wc", batchTime: Time(milliseconds: 1), table: table, rows: [], offsets: [], stateChanges: []))
            XCTFail("should refuse")
        } catch {
            XCTAssertTrue("\(error)".contains("before its recovery"), "\(error)")
        }
    }

    /// Word count into the Kafka store, stopped and restarted: the newest
    /// record per word equals a plain count.
    func testWordCountResumesFromTheChangelog() async throws {
        let cluster = try MockCluster(brokers: 1)
        let input = KafkaTestEnvironment.uniqueName("lines")
        try cluster.createTopic(input, partitions: 2)
        let lines = (0..<400).map { "w\($0 % 7) w\($0 % 3) common" }
        try produce(lines, to: input, bootstrap: cluster.bootstrapServers)
        let output = KafkaTestEnvironment.uniqueName("counts")
        try cluster.createTopic(output, partitions: 2)
        try cluster.createTopic("\(output)-changelog", partitions: 1)

        func run(batches: Int) async throws {
            let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
            var source = KafkaSourceConfiguration(
                bootstrapServers: cluster.bootstrapServers,
                subscription: .partitions([KafkaTopicPartition(topic: input, partition: 0), KafkaTopicPartition(topic: input, partition: 1)]),
                groupID: "wc")
            source.startingPosition = .earliest
            source.maxRatePerPartition = 60
            let totals = driver.context.kafkaDirectStream(source)
                .flatMap { ($0.valueString ?? "").split(separator: " ").map(String.init) }
                .map { ($0, Int64(1)) }
                .updateStateByKey(name: "totals") { (values: [Int64], total: Int64?) -> Int64? in (total ?? 0) + values.reduce(0, +) }
            let store = try makeStoreReusing(cluster, output: output)
            try await totals.saveExactlyOnce(to: store, job: "wc", table: table) { [.text($0.0), .integer($0.1)] }
            try driver.start()
            try await driver.runBatches(batches)
            await driver.stop(graceful: false)
            store.close()
        }
        try await run(batches: 1)   // 120 of 400 lines
        try await run(batches: 3)   // the remaining 280 (and an empty batch)

        var latest: [String: Int64] = [:]
        for record in try readAll(output, partitions: 2, bootstrap: cluster.bootstrapServers).sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            let fields = (record.valueString ?? "").split(separator: "\t")
            if fields.count == 2, let count = Int64(fields[1]) { latest[String(fields[0])] = count }
        }
        var expected: [String: Int64] = [:]
        for line in lines { for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 } }
        XCTAssertEqual(latest, expected)
    }

    private func produce(_ lines: [String], to topic: String, bootstrap: String) throws {
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: bootstrap))
        for (index, line) in lines.enumerated() {
            try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(index % 2), key: nil, value: line))
        }
        try producer.flush()
        try producer.close()
    }

    /// Fencing needs a broker that implements transactions.
    func testASecondInstanceOfTheJobFencesTheFirst() async throws {
        guard let bootstrap = KafkaTestEnvironment.realBrokerBootstrap else {
            throw XCTSkip("needs a real Kafka broker (KAFKA_BOOTSTRAP_SERVERS): librdkafka's mock cluster does not fence transactional producers")
        }
        let output = KafkaTestEnvironment.uniqueName("fenced")
        var configuration = KafkaTransactionalStore.Configuration(bootstrapServers: bootstrap, outputTopic: output)
        configuration.createChangelogTopic = true
        let zombie = KafkaTransactionalStore(configuration: configuration)
        _ = try await zombie.recover(job: "fence", table: table)
        let successor = KafkaTransactionalStore(configuration: configuration)
        _ = try await successor.recover(job: "fence", table: table)
        do {
            try await zombie.commit(BatchCommit(job: "fence", batchTime: Time(milliseconds: 1), table: table,
                                                rows: [[.text("x"), .integer(1)]], offsets: [], stateChanges: []))
            XCTFail("the fenced instance must not commit")
        } catch let error as KafkaError {
            XCTAssertTrue(error.isFatal, "\(error)")
        }
        successor.close()
        zombie.close()
    }
}
