import ArgumentParser
import Foundation
import Sluice
import SluiceTesting
import SluiceWorkloads

#if canImport(Glibc)
import Glibc
#endif

/// Issue 4: updateStateByKey vs mapWithState with 100k, 1M and 10M keys of
/// state where each batch touches 10k keys, driven batch by batch on a
/// manual clock with a queue stream (processing only, no waiting); then
/// peak and resident memory per key of state, each operator in a child
/// process.
struct StateBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "updateStateByKey vs mapWithState per-batch time and memory per key (issue 4).")

    @Option(parsing: .upToNextOption, help: "State sizes (keys).") var keys: [Int] = [100_000, 1_000_000, 10_000_000]
    @Option(help: "Keys touched per batch.") var touched: Int = 10_000
    @Option(help: "Measured batches per case (after 2 warm-up batches).") var batches: Int = 7
    @Option(help: "Keys of state in the memory children.") var memoryKeys: Int = 1_000_000
    @Option(help: "Partitions of the keyed operators.") var partitions: Int = 2

    func run() async throws {
        printLoad()
        ChildSetup.quietLogging()
        var results: [String: [Int: Double]] = [:]
        var floor: [Int: Double] = [:]
        for count in keys {
            floor[count] = Self.plainUpdates(keys: count, touched: touched, batches: batches)
            print("plain [String: Int64] with \(count) keys: \(Format.milliseconds(floor[count] ?? 0)) per \(touched) random updates")
            for op in ["updateStateByKey", "mapWithState"] {
                let seconds = try await Self.perBatch(op: op, keys: count, touched: touched, batches: batches, partitions: partitions)
                results[op, default: [:]][count] = seconds
                print("\(op) with \(count) keys: \(Format.milliseconds(seconds)) per batch (median of \(batches))")
            }
        }
        print("")
        print("## state — per-batch time, \(touched) keys touched per batch, \(partitions) partitions; median of \(batches) batches after 2 warm-up batches")
        print("keys          updateStateByKey     mapWithState   update / map   plain dictionary, same updates (floor)")
        for count in keys {
            let update = results["updateStateByKey"]?[count] ?? .nan
            let map = results["mapWithState"]?[count] ?? .nan
            print(String(format: "%-10d  %13.1f ms  %12.1f ms   %11.2f×   %8.2f ms", count, update * 1000, map * 1000, update / map, (floor[count] ?? .nan) * 1000))
        }
        if let small = keys.min(), let large = keys.max(), small != large,
           let a = results["mapWithState"]?[small], let b = results["mapWithState"]?[large] {
            print("mapWithState at \(large) keys / at \(small) keys = \(Format.ratio(b / a)) (target ≤ 2×: \(Format.verdict(b / a <= 2))); "
                  + "the plain dictionary's same ratio: \(Format.ratio((floor[large] ?? .nan) / (floor[small] ?? .nan)))")
        }
        print("")
        print("## state memory — \(memoryKeys) keys of Int64 counts keyed by short strings (\"k\" + number), filled through the operator, one child each")
        let plain = try ChildProcess.runSelf(["run-state-memory", "--op", "dictionary", "--keys", "\(memoryKeys)"], what: "state memory (dictionary)")
        print(String(format: "baseline, a plain Swift [String: Int64] holding the same keys (same run): %.0f bytes per key resident (%.0f beyond the key's bytes); malloc'd and live %.0f bytes per key",
                     plain["residentBytesPerKey"], plain["residentBytesPerKey"] - plain["keyBytes"], plain["heapBytesPerKey"]))
        for op in ["updateStateByKey", "mapWithState"] {
            let report = try ChildProcess.runSelf(["run-state-memory", "--op", op, "--keys", "\(memoryKeys)"], what: "state memory (\(op))")
            let perKey = report["residentBytesPerKey"]
            let keyBytes = report["keyBytes"]
            let beyond = perKey - keyBytes
            print(String(format: "%@: resident %.0f bytes per key after filling (%.0f of them the key's own UTF-8 bytes) → %.0f bytes per key beyond the key (target ≤ 100: %@); malloc'd and live %.0f bytes per key; peak RSS %@ = %.0f bytes per key over the empty context",
                         op, perKey, keyBytes, beyond, Format.verdict(beyond <= 100), report["heapBytesPerKey"], Format.megabytes(Int(report["peakRSS"])),
                         (report["peakRSS"] - report["baselineRSS"]) / Double(memoryKeys)))
        }
        // Resident above live is memory glibc keeps: with its default dynamic
        // mmap threshold, large blocks freed on worker threads (a grown-out
        // dictionary's old storage, batch arrays) stay in per-thread arenas,
        // whose top malloc_trim does not return. A fixed threshold shows it.
        for op in ["updateStateByKey", "mapWithState"] {
            let report = try ChildProcess.runSelf(
                ["run-state-memory", "--op", op, "--keys", "\(memoryKeys)", "--fixed-mmap-threshold"], what: "state memory (\(op), fixed mmap threshold)")
            print(String(format: "%@ with glibc's mmap threshold fixed at 128 KiB (mallopt M_MMAP_THRESHOLD, as MALLOC_MMAP_THRESHOLD_=131072 does): resident %.0f bytes per key beyond the key; malloc'd and live %.0f; peak RSS %@",
                         op, report["residentBytesPerKey"] - report["keyBytes"], report["heapBytesPerKey"], Format.megabytes(Int(report["peakRSS"]))))
        }
        printLoad()
    }

    static func key(_ index: Int) -> String { "k\(index)" }

    /// The floor: `touched` random updates of a plain `[String: Int64]`
    /// holding `keys` keys (median over `batches` rounds).
    static func plainUpdates(keys: Int, touched: Int, batches: Int) -> Double {
        var dictionary: [String: Int64] = [:]
        dictionary.reserveCapacity(keys)
        for index in 0..<keys { dictionary[key(index)] = 1 }
        var generator = SeededGenerator(seed: UInt64(keys))
        var times: [Double] = []
        for _ in 0..<(batches + 2) {
            let batch = (0..<touched).map { _ in key(Int(generator.next() % UInt64(keys))) }
            let start = Measure.now()
            for word in batch { dictionary[word, default: 0] += 1 }
            times.append(Measure.now() - start)
        }
        return Measure.median(Array(times.dropFirst(2)))
    }

    /// Median wall time of one batch.
    static func perBatch(op: String, keys: Int, touched: Int, batches: Int, partitions: Int) async throws -> Double {
        var initial: [String: Int64] = [:]
        initial.reserveCapacity(keys)
        for index in 0..<keys { initial[key(index)] = 1 }
        let queue = BatchQueue<(String, Int64)>()
        let driver = try StreamTestDriver(
            batchInterval: .seconds(1),
            configuration: StreamingConfiguration(defaultParallelism: partitions, logger: ChildSetup.logger),
            timeout: .seconds(600))
        let input = driver.context.queueStream(queue)
        let sink = Counter()
        if op == "updateStateByKey" {
            let totals = input.updateStateByKey(initialState: initial) { (values: [Int64], total: Int64?) -> Int64? in
                (total ?? 0) + values.reduce(0, +)
            }
            try totals.foreachBatch { batch, _, _ in sink.add(batch.count()) }
        } else {
            let spec = StateSpec<String, Int64, Int64, (String, Int64)>.function { key, value, state in
                let total = (state.get() ?? 0) + (value ?? 0)
                state.update(total)
                return (key, total)
            }.initialState(initial)
            try input.mapWithState(spec).mapped.foreachBatch { batch, _, _ in sink.add(batch.count()) }
        }
        initial = [:]
        try driver.start()
        var generator = SeededGenerator(seed: UInt64(keys))
        var times: [Double] = []
        for round in 0..<(batches + 2) {
            var batch: [(String, Int64)] = []
            batch.reserveCapacity(touched)
            for _ in 0..<touched { batch.append((key(Int(generator.next() % UInt64(keys))), 1)) }
            queue.push(batch)
            let start = Measure.now()
            try await driver.runBatches(1)
            if round >= 2 { times.append(Measure.now() - start) }
        }
        await driver.stop(graceful: false)
        return Measure.median(times)
    }
}

/// Counts elements seen by an output.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ count: Int) { lock.withLock { total += count } }
    var value: Int { lock.withLock { total } }
}


/// The memory child: fills one operator's state with `keys` keys through
/// batches of new keys (as a job would), then reports resident memory per
/// key (after `malloc_trim`, so freed batch memory is not counted) over the
/// resident memory of the same context before any key.
struct StateMemoryChild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-state-memory", abstract: "Benchmark child: memory per key of state.", shouldDisplay: false)

    @Option var op: String
    @Option var keys: Int
    @Option var batchSize: Int = 250_000
    @Flag(help: "Fix glibc's mmap threshold at 128 KiB (no dynamic threshold).") var fixedMmapThreshold = false
    @Flag(help: "After the fill, print glibc's malloc_stats (system and in-use bytes per arena) to stderr.") var printMallocStats = false

    func run() async throws {
        if fixedMmapThreshold { _ = mallopt(-3 /* M_MMAP_THRESHOLD */, 128 * 1024) }
        ChildSetup.quietLogging()
        if op == "dictionary" { return try plainDictionary() }
        let queue = BatchQueue<(String, Int64)>()
        let driver = try StreamTestDriver(
            batchInterval: .seconds(1), configuration: StreamingConfiguration(defaultParallelism: 2, logger: ChildSetup.logger),
            timeout: .seconds(600))
        let input = driver.context.queueStream(queue)
        let sink = Counter()
        if op == "updateStateByKey" {
            try input.updateStateByKey { (values: [Int64], total: Int64?) -> Int64? in (total ?? 0) + values.reduce(0, +) }
                .foreachBatch { batch, _, _ in sink.add(batch.count()) }
        } else {
            let spec = StateSpec<String, Int64, Int64, Int64>.function { _, value, state in
                let total = (state.get() ?? 0) + (value ?? 0)
                state.update(total)
                return nil
            }
            try input.mapWithState(spec).mapped.foreachBatch { batch, _, _ in sink.add(batch.count()) }
        }
        try driver.start()
        try await driver.runBatches(2)
        _ = mallocTrim(0)
        let baseline = Measure.statusBytes("VmRSS")
        let heapBaseline = Self.heapInUse()
        var keyBytes = 0
        var next = 0
        while next < keys {
            let end = min(keys, next + batchSize)
            var batch: [(String, Int64)] = []
            batch.reserveCapacity(end - next)
            for index in next..<end {
                let key = StateBenchmark.key(index)
                keyBytes += key.utf8.count
                batch.append((key, 1))
            }
            queue.push(batch)
            next = end
            try await driver.runBatches(1)
        }
        // Two empty batches: nothing of the fill is still in flight.
        try await driver.runBatches(2)
        _ = mallocTrim(0)
        let resident = Measure.statusBytes("VmRSS")
        let heap = Self.heapInUse()
        // Resident above live sits in arenas whose system bytes exceed their in-use bytes.
        if printMallocStats { mallocStats() }
        ChildReport.emit([
            "keys": Double(keys),
            "baselineRSS": Double(baseline),
            "residentRSS": Double(resident),
            "residentBytesPerKey": Double(resident - baseline) / Double(keys),
            "heapBytesPerKey": Double(heap - heapBaseline) / Double(keys),
            "keyBytes": Double(keyBytes) / Double(keys),
        ])
        await driver.stop(graceful: false)
    }

    /// Bytes malloc has handed out and not got back, over all arenas and
    /// mmapped chunks: live data, without the freed memory resident figures
    /// may still include. glibc's `malloc_stats` prints it to stderr
    /// ("Total (incl. mmap): … in use bytes = N"; `mallinfo2` is not
    /// visible to Swift), so stderr goes to a temporary file for the call.
    static func heapInUse() -> Int {
        let path = NSTemporaryDirectory() + "sluice-bench-malloc-stats-\(getpid())"
        let file = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o600)
        guard file >= 0 else { return 0 }
        defer { unlink(path) }
        let saved = dup(2)
        dup2(file, 2)
        mallocStats()
        dup2(saved, 2)
        close(saved)
        close(file)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let total = text.range(of: "Total (incl. mmap):") else { return 0 }
        for line in text[total.upperBound...].split(separator: "\n") where line.contains("in use bytes") {
            return Int(line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        }
        return 0
    }

    /// The floor: the same keys in one `[String: Int64]`, grown by insertion.
    func plainDictionary() throws {
        _ = mallocTrim(0)
        let baseline = Measure.statusBytes("VmRSS")
        let heapBaseline = Self.heapInUse()
        var keyBytes = 0
        var dictionary: [String: Int64] = [:]
        for index in 0..<keys {
            let key = StateBenchmark.key(index)
            keyBytes += key.utf8.count
            dictionary[key, default: 0] += 1
        }
        _ = mallocTrim(0)
        let resident = Measure.statusBytes("VmRSS")
        ChildReport.emit([
            "keys": Double(dictionary.count),
            "baselineRSS": Double(baseline),
            "residentRSS": Double(resident),
            "residentBytesPerKey": Double(resident - baseline) / Double(keys),
            "heapBytesPerKey": Double(Self.heapInUse() - heapBaseline) / Double(keys),
            "keyBytes": Double(keyBytes) / Double(keys),
        ])
    }
}
