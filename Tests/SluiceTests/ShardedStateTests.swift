@testable import Sluice
import SluiceTesting
import Testing

/// updateStateByKey's state is split into shards by key hash and updated
/// shard by shard in parallel (as Spark keeps it in a hash-partitioned
/// RDD). These check the result against a one-map replay: many keys (every
/// shard used), values from several input partitions in batch order,
/// removals with and without values, the committed delta, batches kept
/// while later batches change the shards, and restore → continue.
@Suite struct ShardedStateTests {
    /// Order-sensitive update: the values are appended in the order given,
    /// so a key's values must arrive in batch order across partitions. A
    /// batch summing to a multiple of 7 removes the key; without values a
    /// state of length divisible by 3 grows a dot, and one over 30
    /// characters is removed; other states stay the same.
    @Sendable static func update(_ values: [Int], _ old: String?) -> String? {
        if values.isEmpty {
            guard let old else { return nil }
            if old.count > 30 { return nil }
            return old.count % 3 == 0 ? old + "." : old
        }
        if values.reduce(0, +) % 7 == 0 { return nil }
        return (old ?? "") + values.map(String.init).joined(separator: ",") + ";"
    }

    /// The one-map replay of one batch: the new state and the keys whose
    /// state changed (upserts) or went (deletes).
    static func replay(_ batch: [(String, Int)], _ state: inout [String: String])
        -> (upserts: [String: String], deletes: Set<String>)
    {
        var values: [String: [Int]] = [:]
        for (key, value) in batch { values[key, default: []].append(value) }
        var upserts: [String: String] = [:]
        var deletes: Set<String> = []
        for key in Set(state.keys).union(values.keys) {
            let old = state[key]
            let new = update(values[key] ?? [], old)
            state[key] = new
            if let new, new != old { upserts[key] = new }
            if new == nil, old != nil { deletes.insert(key) }
        }
        return (upserts, deletes)
    }

    static func batches(_ random: inout SeededRandom) -> [[(String, Int)]] {
        let keys = random.int(1...400)
        return (0..<random.int(1...6)).map { _ in
            if random.int(0...5) == 0 { return [] }
            return (0..<random.int(0...300)).map { _ in ("k\(random.int(0...(keys - 1)))", random.int(-9...9)) }
        }
    }

    static func pairs(_ elements: [(String, String)]) -> [String] { multiset(elements.map { "\($0.0)=\($0.1)" }) }

    struct Run {
        var outputs: [[String]]
        /// Each batch's output read again after every batch ran.
        var keptOutputs: [[String]]
        var deltas: [(upserts: [String: String], deletes: Set<String>)]
        var snapshot: [EncodedStateEntry]
        var shardCount: Int
        var shardsUsed: Int
    }

    /// Runs `input` through updateStateByKey, its batch times after
    /// `start`, restoring `snapshot` first, with change tracking on.
    static func run(_ input: [[(String, Int)]], partitions: Int, start: Duration = .zero, restoring snapshot: [EncodedStateEntry]? = nil)
        async throws -> Run
    {
        let driver = try StreamTestDriver(startingAt: start)
        let totals = driver.context.queueStream(input, partitions: partitions).updateStateByKey(update)
        let kept = NSLockedBox<[Batch<(String, String)>]>([])
        let collector = OutputCollector<String>()
        try totals.foreachBatch { batch, time, _ in
            kept.withLock { $0.append(batch) }
            collector.append(time: time, elements: pairs(batch.collect()))
        }
        let states = driver.context.graph.stateRegistry.states(ofNodes: [totals.node.id])
        let state = try #require(states.first as? KeyedState<String, String>)
        if let snapshot { try state.restore(snapshot) }
        state.beginChangeTracking(includeExisting: false)
        try driver.start()
        var deltas: [(upserts: [String: String], deletes: Set<String>)] = []
        for _ in input {
            try await driver.runBatches(1)
            let delta = state.store.delta()
            deltas.append((Dictionary(delta.upserts.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }), Set(delta.deletes)))
            state.markCommitted()
        }
        await driver.stop()
        let shardsUsed = Set(state.store.entries().map { state.store.shard(of: $0.key) }).count
        return Run(
            outputs: collector.batches, keptOutputs: kept.withLock { $0.map { pairs($0.collect()) } },
            deltas: deltas, snapshot: try state.encodedSnapshot(), shardCount: state.store.shardCount, shardsUsed: shardsUsed)
    }

    @Test func shardedStateMatchesAOneMapReplay() async throws {
        var random = SeededRandom(seed: 404)
        var sawEveryShardUsed = false
        for _ in 0..<200 {
            let input = Self.batches(&random)
            let partitions = random.int(1...4)
            let result = try await Self.run(input, partitions: partitions)
            #expect(result.shardCount >= 16, "updateStateByKey's store is sharded")
            sawEveryShardUsed = sawEveryShardUsed || result.shardsUsed == result.shardCount
            var state: [String: String] = [:]
            for (index, batch) in input.enumerated() {
                let changes = Self.replay(batch, &state)
                let expected = Self.pairs(state.map { ($0.key, $0.value) })
                #expect(result.outputs[index] == expected, "batch \(index), \(partitions) partitions")
                #expect(result.keptOutputs[index] == expected, "batch \(index) read after later batches")
                #expect(result.deltas[index].upserts == changes.upserts, "committed upserts of batch \(index)")
                #expect(result.deltas[index].deletes == changes.deletes, "committed deletes of batch \(index)")
            }
        }
        #expect(sawEveryShardUsed, "some cases put keys in every shard")
    }

    @Test func restoredShardsContinueLikeAnUninterruptedRun() async throws {
        var random = SeededRandom(seed: 405)
        var cases = 0
        while cases < 60 {
            let input = Self.batches(&random)
            guard input.count >= 2 else { continue }
            cases += 1
            let partitions = random.int(1...3)
            let cut = random.int(1...(input.count - 1))
            let whole = try await Self.run(input, partitions: partitions)
            let first = try await Self.run(Array(input[..<cut]), partitions: partitions)
            let second = try await Self.run(
                Array(input[cut...]), partitions: partitions, start: .seconds(cut), restoring: first.snapshot)
            #expect(first.outputs + second.outputs == whole.outputs)
            #expect(Set(second.snapshot) == Set(whole.snapshot))
        }
    }

    @Test func aShardedStoreBehavesAsOneMap() {
        var random = SeededRandom(seed: 406)
        for _ in 0..<50 {
            let store = InMemoryKeyValueStore<String, Int>(shardCount: 16)
            var reference: [String: Int] = [:]
            store.beginChangeTracking(includeExisting: false)
            var written: Set<String> = []
            for _ in 0..<random.int(0...500) {
                let key = "k\(random.int(0...200))"
                if random.int(0...3) == 0 {
                    store.delete(key)
                    if reference.removeValue(forKey: key) != nil { written.insert(key) }
                } else {
                    let value = random.int(0...1_000)
                    store.put(key, value)
                    reference[key] = value
                    written.insert(key)
                }
            }
            #expect(store.count == reference.count)
            #expect(Dictionary(uniqueKeysWithValues: store.entries().map { ($0.key, $0.value) }) == reference)
            for key in (0...200).map({ "k\($0)" }) { #expect(store.get(key) == reference[key]) }
            let delta = store.delta()
            #expect(Set(delta.upserts.map(\.key)).union(delta.deletes) == written)
            #expect(delta.upserts.allSatisfy { reference[$0.key] == $0.value })
            #expect(delta.deletes.allSatisfy { reference[$0] == nil })

            // The whole-map face over several shards: one map in, split back.
            store.markCommitted()
            let total: Int = store.update { map in
                map["new"] = -1
                map["k0"] = nil
                return (result: map.count, written: ["new", "k0"])
            }
            reference["new"] = -1
            reference["k0"] = nil
            #expect(total == reference.count)
            #expect(store.get("new") == -1 && store.get("k0") == nil)
            #expect(Set(store.delta().upserts.map(\.key)).union(store.delta().deletes) == ["new", "k0"])
            #expect(Dictionary(uniqueKeysWithValues: store.entries().map { ($0.key, $0.value) }) == reference)

            // Restore splits entries over the shards; the last of a key wins.
            let entries = reference.map { (key: $0.key, value: $0.value) } + [(key: "k1", value: 99)]
            store.restore(entries)
            reference["k1"] = 99
            #expect(store.delta().isEmpty)
            #expect(Dictionary(uniqueKeysWithValues: store.entries().map { ($0.key, $0.value) }) == reference)
            for key in reference.keys { #expect(store.get(key) == reference[key]) }
        }
    }

    @Test func aSnapshotOfShardsSplitsTheirConcatenationIntoEvenPartitions() {
        var random = SeededRandom(seed: 407)
        for _ in 0..<200 {
            // Shards of random sizes, some empty (also the first and last).
            let shards: [[Int: Int]] = (0..<random.int(1...8)).map { shard in
                let size = random.int(0...3) == 0 ? 0 : random.int(1...20)
                return Dictionary(uniqueKeysWithValues: (0..<size).map { (shard * 100 + $0, $0) })
            }
            let partitions = random.int(1...6)
            let snapshot = StoreSnapshot(shards: shards, partitionCount: partitions)
            let batch = snapshot.batch()
            let total = shards.reduce(0) { $0 + $1.count }
            let concatenation = shards.flatMap { $0.map { "\($0.key)=\($0.value)" } }
            #expect(batch.partitions.count == max(1, min(partitions, total)))
            let read = batch.partitions.map { $0.collect().map { "\($0.0)=\($0.1)" } }
            #expect(read.flatMap { $0 } == concatenation, "partitions are contiguous, in shard order")
            #expect((read.map(\.count).max() ?? 0) - (read.map(\.count).min() ?? 0) <= 1)
            #expect(zip(read, batch.partitions).allSatisfy { $0.count == $1.knownCount })
            snapshot.copyOut()
            #expect(batch.partitions.map { $0.collect().map { "\($0.0)=\($0.1)" } } == read)
        }
    }
}
