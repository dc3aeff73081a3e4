@testable import Sluice
import SluiceTesting
import Testing

/// A job runs in one process at a time: a second context started on the
/// same store and job claims it, and the first one's next commit is
/// refused (`fenced`) and stops it, so the two never both commit. The
/// totals then equal those of one uninterrupted run over the whole log,
/// computed here by summing the log.
@Suite struct JobFencingTests {
    static let table = ResultTable(
        name: "totals", columns: [ResultColumn("key", .integer), ResultColumn("total", .integer)], mode: .upsert(key: ["key"]))

    /// Running totals of the log's values by value mod 3, written exactly once.
    static func define(_ driver: StreamTestDriver, store: MemoryStore, log: ReplayableLog<Int>) async throws {
        let totals = driver.context.inputStream(ReplayableLogSource(log: log, partitions: 2))
            .map { ($0 % 3, $0) }
            .updateStateByKey(name: "totals") { (values: [Int], old: Int?) in (old ?? 0) + values.reduce(0, +) }
        try await totals.saveExactlyOnce(to: store, job: "fenced", table: table) { [.integer(Int64($0.0)), .integer(Int64($0.1))] }
    }

    @Test func aSecondOwnerFencesTheFirstAndTheTotalsStayExact() async throws {
        let store = MemoryStore()
        let log = ReplayableLog<Int>()
        let first = try StreamTestDriver(configuration: StreamingConfiguration(defaultParallelism: 2), startingAt: .zero)
        try await Self.define(first, store: store, log: log)
        try first.start()
        log.append([1, 2, 3, 4])
        try await first.runBatches(1)
        log.append([5, 6])
        try await first.runBatches(1)
        #expect(store.commits.count == 2)

        // The second process claims the job while the first still runs.
        let second = try StreamTestDriver(configuration: StreamingConfiguration(defaultParallelism: 2), startingAt: .seconds(2))
        try await Self.define(second, store: store, log: log)

        log.append([7, 8, 9])
        await #expect(throws: (any Error).self, "the first process's next batch is refused") {
            try await first.runBatches(1)
        }
        await #expect {
            try await first.context.awaitTermination()
        } throws: { error in
            (error as? StreamingError)?.code == .fenced
        }
        #expect(store.commits.count == 2, "the fenced batch committed nothing")

        // The second process goes on from the last commit of the first.
        try second.start()
        try await second.runBatches(1)
        log.append([10])
        try await second.runBatches(1)
        await second.stop()

        var expected: [Int: Int] = [:]
        for value in 1...10 { expected[value % 3, default: 0] += value }
        var totals: [Int: Int] = [:]
        for commit in store.commits {
            for row in commit.tables["totals"] ?? [] {
                let parts = row.split(separator: ",").compactMap { Int($0) }
                totals[parts[0]] = parts[1]
            }
        }
        #expect(totals == expected)
        #expect(store.commits.last?.until == 10, "every record is committed once")
    }

    @Test func theFencedErrorNamesTheJobAndTheProcessThatHoldsIt() async throws {
        let store = MemoryStore()
        let first = try await store.claim(job: "j", owner: JobOwner(name: "host-a pid 1"))
        let second = try await store.claim(job: "j", owner: JobOwner(name: "host-b pid 2"))
        #expect(second.previousOwner == "host-a pid 1")
        #expect(second.epoch != first.epoch)
        let commit = BatchCommit(
            job: "j", batchTime: Time(milliseconds: 5000), table: Self.table, rows: [], offsets: [], stateChanges: [],
            ownerEpoch: first.epoch)
        await #expect {
            try await store.commit(commit)
        } throws: { error in
            guard let error = error as? StreamingError, error.code == .fenced else { return false }
            return error.message.contains("'j'") && error.message.contains("host-b pid 2") && error.message.contains("5000")
        }
        var current = commit
        current.ownerEpoch = second.epoch
        try await store.commit(current)
        #expect(store.commits.count == 1)
    }
}
