@testable import Sluice
import SluiceTesting
import Testing

/// Windows sliding by more than one batch under an exactly-once output,
/// stopped and started again from the same store with a fresh context: the
/// windows keep the slide grid of the job's first run (its zero time is
/// stored with the state), so they output at the times and with the
/// contents of an uninterrupted run. Expected outputs are brute force over
/// the records of each batch time.
@Suite struct ExactlyOnceRestartGridTests {
    static let length: Duration = .seconds(4)
    static let slide: Duration = .seconds(2)

    /// The tables of the job: a stored window's elements, counts by value,
    /// maxima by parity (no inverse) and the sum (with inverse), each over
    /// 4 s sliding by 2 s.
    static func tables(_ numbers: DStream<Int>) -> [ExactlyOnceTable] {
        [
            ExactlyOnceTable(numbers.window(length, slide: slide), table: table("elements", ["value"])) { [.integer(Int64($0))] },
            ExactlyOnceTable(numbers.countByValueAndWindow(length, slide: slide), table: table("counts", ["value", "count"])) {
                [.integer(Int64($0.0)), .integer(Int64($0.1))]
            },
            ExactlyOnceTable(numbers.map { ($0 % 2, $0) }.reduceByKeyAndWindow(max, length, slide: slide), table: table("maxima", ["parity", "max"])) {
                [.integer(Int64($0.0)), .integer(Int64($0.1))]
            },
            ExactlyOnceTable(numbers.reduceByWindow(+, inverse: -, length, slide: slide), table: table("sums", ["sum"])) { [.integer(Int64($0))] },
        ]
    }

    static func table(_ name: String, _ columns: [String]) -> ResultTable {
        ResultTable(name: name, columns: columns.map { ResultColumn($0, .integer) }, mode: .append)
    }

    /// What each table gets at batch time `time` (ms) when the slide grid
    /// starts at `zero` (ms), given the records of every batch by time.
    static func bruteForce(at time: Int64, zero: Int64, records: [Int64: [Int]]) -> [String: [String]] {
        guard (time - zero) % slide.wholeMilliseconds == 0 else {
            return ["elements": [], "counts": [], "maxima": [], "sums": []]
        }
        let values = records.filter { $0.key > time - length.wholeMilliseconds && $0.key <= time }.flatMap(\.value)
        var counts: [Int: Int] = [:]
        var maxima: [Int: Int] = [:]
        for value in values {
            counts[value, default: 0] += 1
            maxima[value % 2] = max(maxima[value % 2] ?? value, value)
        }
        return [
            "elements": multiset(values.map(String.init)),
            "counts": multiset(counts.map { "\($0.key),\($0.value)" }),
            "maxima": multiset(maxima.map { "\($0.key),\($0.value)" }),
            "sums": values.isEmpty ? [] : ["\(values.reduce(0, +))"],
        ]
    }

    /// Runs the job once from `store`: a fresh context on a manual clock
    /// reading `start`; before each batch its records are appended to `log`.
    /// Returns the batch times that ran.
    @discardableResult
    static func run(
        _ batches: [[Int]], store: MemoryStore, log: ReplayableLog<Int>, start: Duration,
        interval: Duration = .seconds(1), capture: LogCapture = LogCapture()
    ) async throws -> [Time] {
        let driver = try StreamTestDriver(
            batchInterval: interval, configuration: StreamingConfiguration(defaultParallelism: 2, logger: capture.logger),
            startingAt: start)
        let numbers = driver.context.inputStream(ReplayableLogSource(log: log, partitions: 2))
        try await driver.context.saveExactlyOnce(to: store, job: "grid", tables: tables(numbers))
        try driver.start()
        for batch in batches {
            log.append(batch)
            try await driver.runBatches(1)
        }
        await driver.stop()
        return driver.completedBatches
    }

    /// Checks every commit of `store` against brute force over the records
    /// of `log` each committed batch read, on the grid starting at `zero`.
    static func expectBruteForce(_ store: MemoryStore, log: ReplayableLog<Int>, zero: Int64, _ comment: Comment) {
        let commits = store.commits
        var records: [Int64: [Int]] = [:]
        for (index, commit) in commits.enumerated() {
            let from = index == 0 ? 0 : commits[index - 1].until
            records[commit.time.milliseconds] = log.read(OffsetRange(topic: "log", partition: 0, from: from, until: commit.until))
        }
        for commit in commits {
            let expected = bruteForce(at: commit.time.milliseconds, zero: zero, records: records)
            #expect(commit.tables == expected, "batch \(commit.time), \(comment)")
        }
    }

    @Test func aRestartKeepsTheSlideGridOfTheFirstRun() async throws {
        var random = SeededRandom(seed: 412)
        for _ in 0..<12 {
            let input = (0..<random.int(6...10)).map { _ in random.intBatches(batches: 1...1, maxSize: 4, values: 0...5)[0] }
            // An odd cut: a restart whose own start would put the grid on odd seconds.
            let cut = 2 * random.int(0...((input.count - 2) / 2)) + 1
            // Seconds the job is down; what arrives meanwhile goes into the first batch after the restart.
            let downtime = random.int(0...3)

            let whole = MemoryStore()
            let wholeLog = ReplayableLog<Int>()
            try await Self.run(input, store: whole, log: wholeLog, start: .zero)
            Self.expectBruteForce(whole, log: wholeLog, zero: 0, "uninterrupted run")

            let store = MemoryStore()
            let log = ReplayableLog<Int>()
            let first = try await Self.run(Array(input[..<cut]), store: store, log: log, start: .zero)
            log.append(input[cut])  // arrives while the job is down
            var rest = Array(input[cut...])
            rest[0] = []
            let second = try await Self.run(rest, store: store, log: log, start: .seconds(cut + downtime))
            #expect(first.map(\.milliseconds) == (1...cut).map { Int64($0) * 1000 })
            #expect(second.first == Time(milliseconds: Int64(cut + downtime + 1) * 1000), "the first batch after the restart is the first after now")
            #expect(store.commits.map(\.time) == first + second)
            // Windows on the first run's grid (even seconds), holding what brute force says.
            Self.expectBruteForce(store, log: log, zero: 0, "restart after \(cut) s, down \(downtime) s")
            if downtime == 0 {
                #expect(store.commits.map(\.tables) == whole.commits.map(\.tables), "restart after \(cut) s equals the uninterrupted run")
            }
        }
    }

    @Test func aChangedBatchIntervalKeepsTheStoredGrid() async throws {
        let store = MemoryStore()
        let log = ReplayableLog<Int>()
        // First run: 1 s batches from 2 s, so the grid's zero is 1 s and windows end on odd seconds.
        let first = try await Self.run([[1, 2], [3], [4, 4]], store: store, log: log, start: .seconds(1))
        #expect(first.map(\.milliseconds) == [2000, 3000, 4000])
        // Second run with 2 s batches, started at 6 s: the batches stay on 1 s + k·2 s.
        let capture = LogCapture()
        let second = try await Self.run([[5], [6, 7], [8]], store: store, log: log, start: .seconds(6), interval: .seconds(2), capture: capture)
        #expect(second.map(\.milliseconds) == [7000, 9000, 11000])
        Self.expectBruteForce(store, log: log, zero: 1000, "interval 1 s, then 2 s")
        let notices = capture.messages(at: .notice)
        #expect(notices.contains { $0.contains("\(Duration.seconds(1))") && $0.contains("\(Duration.seconds(2))") }, "\(notices)")
        #expect(store.grid == [1000, 2000], "the grid is stored with the interval now in use")
    }

    @Test func aStoreWithoutAGridTakesTheGridOfTheNextStartAndKeepsIt() async throws {
        let store = MemoryStore()
        let log = ReplayableLog<Int>()
        try await Self.run([[1], [2], [3]], store: store, log: log, start: .zero)
        #expect(store.grid == [0, 1000])
        // What an older version stored: no grid.
        store.forgetGrid()
        let capture = LogCapture()
        try await Self.run([[4], [5], [6]], store: store, log: log, start: .seconds(3), capture: capture)
        #expect(capture.messages(at: .notice).contains { $0.contains("holds no batch grid") })
        #expect(store.grid == [3000, 1000], "the grid of this start is stored")
        try await Self.run([[7], [8]], store: store, log: log, start: .seconds(6))
        #expect(store.commits.suffix(2).map(\.time.milliseconds) == [7000, 8000])
        // Windows at 5 s and 7 s, the grid of the second run, kept by the third.
        #expect(store.commits.filter { !($0.tables["elements"] ?? []).isEmpty }.map(\.time.milliseconds) == [2000, 5000, 7000])
    }

    @Test func anOperatorNamedLikeTheGridIsRefused() async throws {
        let driver = try StreamTestDriver()
        let totals = driver.context.inputStream(ReplayableLogSource(log: ReplayableLog<Int>(), partitions: 2))
            .map { ($0 % 2, $0) }
            .updateStateByKey(name: StoredBatchGrid.operatorName) { (values: [Int], old: Int?) in (old ?? 0) + values.reduce(0, +) }
        await #expect(throws: StreamingError.self) {
            try await totals.saveExactlyOnce(to: MemoryStore(), job: "j", table: Self.table("t", ["k", "v"])) {
                [.integer(Int64($0.0)), .integer(Int64($0.1))]
            }
        }
    }
}

/// An exactly-once store in memory (one job), keeping every commit's rows
/// and offset, for the tests to compare.
final class MemoryStore: ExactlyOnceStore {
    struct Commit: Sendable {
        var time: Time
        /// The until-offset of the batch's range of the `ReplayableLog`.
        var until: Int64
        /// Rows per table, as sorted strings (`1,2`).
        var tables: [String: [String]]
    }

    private struct Contents {
        var lastBatchTime: Time?
        var offsets: [String: SourceOffset] = [:]
        var encodings: [String: String] = [:]
        var state: [String: [[UInt8]: [UInt8]]] = [:]
        var commits: [Commit] = []
        var ownerEpoch: Int64 = 0
        var owner: String?
    }

    private let contents = Locked(Contents())
    var description: String { "memory" }

    func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob {
        contents.withLock { contents in
            var operators: [String: RecoveredOperatorState] = [:]
            for (name, encoding) in contents.encodings {
                let entries = (contents.state[name] ?? [:]).map { EncodedStateEntry(key: $0.key, value: $0.value) }
                operators[name] = RecoveredOperatorState(encoding: encoding, entries: entries)
            }
            return RecoveredJob(
                lastBatchTime: contents.lastBatchTime,
                offsets: contents.offsets.values.sorted { $0.description < $1.description },
                operators: operators)
        }
    }

    func claim(job: String, owner: JobOwner) async throws -> OwnerClaim {
        contents.withLock { contents in
            defer {
                contents.ownerEpoch += 1
                contents.owner = owner.name
            }
            return OwnerClaim(epoch: contents.ownerEpoch + 1, previousOwner: contents.owner)
        }
    }

    func commit(_ commit: BatchCommit) async throws -> CommitOutcome {
        try contents.withLock { contents in
            if let epoch = commit.ownerEpoch, epoch != contents.ownerEpoch {
                throw StreamingError.fenced(
                    job: commit.job, batchTime: commit.batchTime, epoch: epoch,
                    currentOwner: contents.owner, currentEpoch: contents.ownerEpoch)
            }
            contents.lastBatchTime = commit.batchTime
            for offset in commit.offsets { contents.offsets["\(offset.topic)-\(offset.partition)"] = offset }
            for change in commit.stateChanges {
                contents.encodings[change.name] = change.encoding
                for entry in change.delta.upserts { contents.state[change.name, default: [:]][entry.key] = entry.value }
                for key in change.delta.deletes { contents.state[change.name]?[key] = nil }
            }
            var tables: [String: [String]] = [:]
            for write in commit.writes {
                tables[write.table.name] = multiset(write.rows.map { $0.map(\.description).joined(separator: ",") })
            }
            contents.commits.append(Commit(time: commit.batchTime, until: commit.offsets.first?.offset ?? 0, tables: tables))
            return CommitOutcome()
        }
    }

    func reset(job: String) async throws {
        contents.withLock { contents in
            contents = Contents(commits: contents.commits, ownerEpoch: contents.ownerEpoch)
        }
    }

    var commits: [Commit] { contents.withLock { $0.commits } }

    /// The stored grid: zero time and interval in ms.
    var grid: [Int64] {
        contents.withLock { contents in
            let codec = StateCodec<String, Int64>()
            let stored = contents.state[StoredBatchGrid.operatorName] ?? [:]
            let values = Dictionary(uniqueKeysWithValues: stored.compactMap { key, value in
                (try? codec.decodeKey(key)).flatMap { key in (try? codec.decodeValue(value)).map { (key, $0) } }
            })
            return [values["zeroTimeMs"], values["batchIntervalMs"]].compactMap { $0 }
        }
    }

    /// Drops the stored grid, as a store written by an older version holds none.
    func forgetGrid() {
        contents.withLock { contents in
            contents.state[StoredBatchGrid.operatorName] = nil
            contents.encodings[StoredBatchGrid.operatorName] = nil
        }
    }
}
