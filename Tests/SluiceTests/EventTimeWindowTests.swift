import Sluice
import SluiceTesting
import Testing

/// Event-time windows against a brute-force simulation: the watermark is
/// recomputed from every accepted record, each window's value from all the
/// accepted records it contains.
@Suite struct EventTimeWindowTests {
    typealias Record = (String, Int)  // (key, event time in ms)

    /// Batches of records whose event times wander forward with jitter, so
    /// some arrive out of order and some later than the lateness allows.
    static func records(_ random: inout SeededRandom, batches: Int) -> [[Record]] {
        var clock = 0
        return (0..<batches).map { _ in
            (0..<random.int(0...6)).map { _ in
                clock += random.int(0...300)
                return (["a", "b", "c"][random.int(0...2)], max(0, clock - random.int(0...1500)))
            }
        }
    }

    static func windows(of time: Int, _ kind: EventTimeWindows) -> [EventWindow] {
        switch kind {
        case .tumbling(let size):
            let s = Int(size.wholeMilliseconds)
            return [EventWindow(start: Int64(time / s * s), end: Int64(time / s * s + s))]
        case .hopping(let size, let advance):
            let s = Int(size.wholeMilliseconds), a = Int(advance.wholeMilliseconds)
            return stride(from: 0, through: time, by: a).filter { $0 <= time && time < $0 + s }
                .map { EventWindow(start: Int64($0), end: Int64($0 + s)) }
        case .session:
            return []
        }
    }

    /// Brute force: final results (key, window, count) per batch, and late records per batch.
    static func simulate(_ input: [[Record]], batches: Int, kind: EventTimeWindows, lateness: Int)
        -> (final: [[String]], late: [[String]])
    {
        var accepted: [Record] = []
        var emitted: Set<String> = []
        var finals: [[String]] = []
        var lates: [[String]] = []
        for index in 0..<batches {
            let watermark = accepted.map(\.1).max().map { $0 - lateness }
            var late: [String] = []
            for record in index < input.count ? input[index] : [] {
                if let watermark, record.1 < watermark { late.append("\(record.0)@\(record.1)") } else { accepted.append(record) }
            }
            lates.append(late)
            let now = accepted.map(\.1).max().map { $0 - lateness }
            var final: [String] = []
            if let now {
                // Every window with its accepted records.
                var counts: [String: [EventWindow: Int]] = [:]
                for key in Set(accepted.map(\.0)) {
                    let times = accepted.filter { $0.0 == key }.map(\.1).sorted()
                    if case .session(let gap) = kind {
                        let g = Int(gap.wholeMilliseconds)
                        var start = times[0], last = times[0], count = 1
                        for t in times.dropFirst() {
                            if t - last < g {
                                last = t
                                count += 1
                            } else {
                                counts[key, default: [:]][EventWindow(start: Int64(start), end: Int64(last + g))] = count
                                start = t
                                last = t
                                count = 1
                            }
                        }
                        counts[key, default: [:]][EventWindow(start: Int64(start), end: Int64(last + g))] = count
                    } else {
                        for t in times {
                            for window in windows(of: t, kind) { counts[key, default: [:]][window, default: 0] += 1 }
                        }
                    }
                }
                for (key, windows) in counts {
                    for (window, count) in windows where window.end <= Int64(now) {
                        let text = "\(key)\(window)=\(count)"
                        if emitted.insert("\(key)\(window)").inserted { final.append(text) }
                    }
                }
            }
            finals.append(final.sorted())
        }
        return (finals, lates)
    }

    func run(_ input: [[Record]], batches: Int, kind: EventTimeWindows, lateness: Int, emit: EventTimeEmitMode = .onWindowClose)
        async throws -> (final: [[String]], updates: [[String]], late: [[String]])
    {
        let driver = try StreamTestDriver()
        let results = OutputCollector<WindowedValue<String, Int>>()
        let late = OutputCollector<String>()
        let streams = driver.context.queueStream(input).countByEventTime(
            timestamp: { _, time in Time(milliseconds: Int64(time)) }, windows: kind,
            allowedLateness: .milliseconds(lateness), emit: emit)
        try streams.results.foreachBatch { batch, time, _ in results.append(time: time, elements: batch.collect()) }
        try streams.late.foreachBatch { batch, time, _ in late.append(time: time, elements: batch.collect().map { "\($0.0)@\($0.1)" }) }
        try driver.start()
        try await driver.runBatches(batches)
        await driver.stop()
        return (
            results.batches.map { $0.filter(\.isFinal).map { "\($0.key)\($0.window)=\($0.value)" }.sorted() },
            results.batches.map { $0.filter { !$0.isFinal }.map { "\($0.key)\($0.window)=\($0.value)" }.sorted() },
            late.batches)
    }

    static let kinds: [EventTimeWindows] = [
        .tumbling(.milliseconds(500)), .tumbling(.seconds(1)),
        .hopping(size: .seconds(1), advance: .milliseconds(250)), .hopping(size: .milliseconds(600), advance: .milliseconds(600)),
        .session(gap: .milliseconds(200)), .session(gap: .milliseconds(700)),
    ]

    @Test func finalResultsAndLateRecordsMatchBruteForce() async throws {
        var random = SeededRandom(seed: 81)
        var lateSeen = 0
        var finalsSeen = 0
        for kind in Self.kinds {
            for _ in 0..<25 {
                let input = Self.records(&random, batches: random.int(2...8))
                let lateness = [0, 200, 800][random.int(0...2)]
                // Extra batches do not advance the watermark (no new records), so windows still open stay open.
                let actual = try await run(input, batches: input.count + 1, kind: kind, lateness: lateness)
                let expected = Self.simulate(input, batches: input.count + 1, kind: kind, lateness: lateness)
                #expect(actual.final == expected.final, "\(kind) lateness \(lateness)")
                #expect(actual.late == expected.late, "\(kind) lateness \(lateness)")
                lateSeen += expected.late.joined().count
                finalsSeen += expected.final.joined().count
            }
        }
        // The cases do exercise late records and closing windows.
        #expect(lateSeen > 50 && finalsSeen > 200)
    }

    @Test func sessionsMergeWhenARecordBridgesThem() async throws {
        // a@0 and a@500 are two sessions (gap 300); a@250 (within the 600 ms
        // lateness) bridges them; a@2000 moves the watermark past their end.
        let input: [[Record]] = [[("a", 0), ("a", 500)], [("a", 250)], [("a", 2000)]]
        let actual = try await run(input, batches: 3, kind: .session(gap: .milliseconds(300)), lateness: 600, emit: .onEveryUpdate)
        #expect(actual.updates[0] == ["a[0, 300)=1", "a[500, 800)=1"])
        #expect(actual.updates[1] == ["a[0, 800)=3"])
        #expect(actual.final[2] == ["a[0, 800)=3"])
    }

    @Test func everyUpdateModeEmitsChangedWindowsThenTheFinalOne() async throws {
        let input: [[Record]] = [[("k", 100)], [("k", 400)], [("k", 1200)], []]
        let actual = try await run(input, batches: 4, kind: .tumbling(.seconds(1)), lateness: 100, emit: .onEveryUpdate)
        #expect(actual.updates == [["k[0, 1000)=1"], ["k[0, 1000)=2"], ["k[1000, 2000)=1"], []])
        #expect(actual.final == [[], [], ["k[0, 1000)=2"], []])
    }

    @Test func badWindowSettingsFailAtStart() throws {
        let driver = try StreamTestDriver()
        let streams = driver.context.queueStream([[("a", 1)]]).countByEventTime(
            timestamp: { _, t in Time(milliseconds: Int64(t)) }, windows: .hopping(size: .seconds(1), advance: .seconds(2)))
        try streams.results.print(to: CapturingSink())
        #expect { try driver.start() } throws: { ($0 as? StreamingError)?.message.contains("advance") == true }
    }
}
