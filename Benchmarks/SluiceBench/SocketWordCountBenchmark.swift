import ArgumentParser
import Foundation
import Sluice
import SluiceWorkloads

#if canImport(Glibc)
import Glibc
#endif

/// Issue 3 (c, d): NetworkWordCount's shape. Generated lines (10,000-word
/// Zipf vocabulary, 5–15 words a line) are served from 127.0.0.1 as fast as
/// the reader takes them; a child process counts words in 1 s batches with
/// the byte-slice path (`socketLineStream` + `countTokens`), with the same
/// counting done as the lines arrive (`socketTokenCounts`), and, as the
/// baseline of the same run, with the String API of DESIGN.md
/// (`socketTextStream`, `split`, `String`, `reduceByKey`).
struct SocketWordCountBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socket-wordcount",
        abstract: "NetworkWordCount over a loopback socket: byte path vs String API (issue 3).")

    @Option(help: "Lines served.") var lines: Int = 2_000_000
    @Option(help: "Batch interval in milliseconds.") var intervalMs: Int = 1000
    @Option(help: "Rounds per API (median reported).") var rounds: Int = 3
    @Option(help: "Comma-separated APIs to run (bytes, arriving, strings); default all.") var only: String = ""
    @Option(help: "Receive buffer limit of the byte sources in MiB (0: the library defaults, 256 MiB for lines, 16 MiB for counts as they arrive).") var maxPendingMb: Int = 0

    func run() throws {
        printLoad()
        var workload = Workload(format: .words, seed: 7)
        var payload: [UInt8] = []
        payload.reserveCapacity(lines * 80)
        var words = 0
        for _ in 0..<lines {
            guard let record = workload.next() else { break }
            for byte in record.value.utf8 {
                if byte == UInt8(ascii: " ") { words += 1 }
                payload.append(byte)
            }
            words += 1
            payload.append(UInt8(ascii: "\n"))
        }
        print("serving \(lines) lines, \(words) words, \(Format.megabytes(payload.count)) from 127.0.0.1")

        var reports: [String: [ChildReport]] = [:]
        let apis = only.isEmpty ? ["bytes", "arriving", "strings"] : only.split(separator: ",").map(String.init)
        for round in 1...rounds {
            var line = "round \(round):"
            for api in apis {
                let server = try LineServer(payload: payload)
                var arguments = ["run-socket-wordcount", "--port", "\(server.port)", "--lines", "\(lines)",
                                 "--interval-ms", "\(intervalMs)", "--api", api]
                if maxPendingMb > 0 { arguments += ["--max-pending-mb", "\(maxPendingMb)"] }
                var report = try ChildProcess.runSelf(arguments, what: "socket word count (\(api))")
                let served = try server.finish()
                guard report["words"] == Double(words) else {
                    throw BenchError("socket word count (\(api)) counted \(report["words"]) words, \(words) were served")
                }
                report.values["receiveSeconds"] = (served.lastWrite - served.accepted) / 1000
                report.values["wallSeconds"] = (report["lastEnd"] - served.accepted) / 1000
                if api == "arriving" {
                    report.values["countedSeconds"] = (report["allCounted"] - served.accepted) / 1000
                }
                reports[api, default: []].append(report)
                if api == "arriving" {
                    line += String(format: " %@ %@ lines/s (counted as they arrived), %@ lines/s (wall);", api,
                                   Format.rate(Double(lines) / report["countedSeconds"]), Format.rate(Double(lines) / report["wallSeconds"]))
                } else {
                    line += String(format: " %@ %@ lines/s (processing), %@ lines/s (wall);", api,
                                   Format.rate(report["processingLinesPerSecond"]), Format.rate(Double(lines) / report["wallSeconds"]))
                }
            }
            print(line)
        }
        print("")
        print("## socket-wordcount — \(lines) lines, \(words) words, \(Format.megabytes(payload.count)), batch interval \(intervalMs) ms; medians of \(rounds) rounds")
        var processing: [String: Double] = [:]
        for api in apis {
            let runs = reports[api] ?? []
            let rate = Measure.median(runs.map { $0["processingLinesPerSecond"] })
            processing[api] = rate
            let receive = Double(lines) / Measure.median(runs.map { $0["receiveSeconds"] })
            let wall = Double(lines) / Measure.median(runs.map { $0["wallSeconds"] })
            let rss = runs.map { $0["peakRSS"] }.max() ?? 0
            let first = Measure.median(runs.map { $0["execToFirstOutput"] })
            let label = switch api {
            case "bytes": "socketLineStream + countTokens (ByteString)"
            case "arriving": "socketTokenCounts (the same counting, done as the lines arrive)"
            default: "socketTextStream + split + String + reduceByKey"
            }
            let targeted = api != "strings"
            print("\(label):")
            if api == "arriving" {
                let counted = Double(lines) / Measure.median(runs.map { $0["countedSeconds"] })
                print("  \(Format.rate(counted)) lines/s counted as they arrived (accept → every line counted) — target ≥ 2.7 M lines/s: \(Format.verdict(counted >= 2_700_000))")
            } else {
                print("  \(Format.rate(rate)) lines/s over batch processing time (\(String(format: "%.0f", Measure.median(runs.map { $0["batches"] }))) non-empty batches)"
                      + (targeted ? " — target ≥ 2.7 M lines/s: \(Format.verdict(rate >= 2_700_000))" : ""))
            }
            print("  \(Format.rate(receive)) lines/s drained from the socket (accept → last byte written by the server)")
            print("  \(Format.rate(wall)) lines/s wall (accept → last batch output, includes waiting for 1 s batch ticks)")
            print("  peak RSS \(Format.megabytes(Int(rss)))" + (targeted ? " (target ≤ 150 MB: \(Format.verdict(rss <= 150 * 1_048_576)))" : ""))
            print(String(format: "  exec → first batch output %.3f s%@ (start() called 20 ms before a batch boundary; the alignment sleep is not counted): exec → start() returned %.3f s, first batch (%.0f lines) output %.3f s after its time",
                         first, targeted ? " (target ≤ 0.25 s: \(Format.verdict(first <= 0.25)))" : "",
                         Measure.median(runs.map { $0["execToStarted"] }), Measure.median(runs.map { $0["firstBatchRecords"] }),
                         Measure.median(runs.map { $0["firstBatchSeconds"] })))
        }
        if let bytes = processing["bytes"], let strings = processing["strings"], strings > 0 {
            print("byte path / String API = \(Format.ratio(bytes / strings)) (same run); byte path / Spark Streaming 4.3's 266 k lines/s (issue 3, not this run) = \(Format.ratio(bytes / 266_000))")
        }
        printLoad()
    }
}

/// Serves `payload` to the first client of a loopback listening socket,
/// as fast as it reads, then closes that connection (the listening socket
/// stays open until `finish`, so a reconnecting source gets no error).
final class LineServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let done = NSCondition()
    private var result: Result<(accepted: Double, lastWrite: Double), BenchError>?

    init(payload: [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw BenchError("bind/listen: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in serve(payload) }
        thread.start()
    }

    private func serve(_ payload: [UInt8]) {
        let connection = accept(listener, nil, nil)
        let accepted = Measure.epochMilliseconds()
        guard connection >= 0 else { return finish(.failure(BenchError("accept: \(String(cString: strerror(errno)))"))) }
        var sent = 0
        let failed: Bool = payload.withUnsafeBytes { bytes in
            while sent < bytes.count {
                let count = write(connection, bytes.baseAddress! + sent, bytes.count - sent)
                if count <= 0 { return true }
                sent += count
            }
            return false
        }
        let lastWrite = Measure.epochMilliseconds()
        close(connection)
        finish(failed ? .failure(BenchError("the client went away after \(sent) bytes")) : .success((accepted, lastWrite)))
    }

    private func finish(_ outcome: Result<(accepted: Double, lastWrite: Double), BenchError>) {
        done.withLock {
            result = outcome
            done.broadcast()
        }
    }

    /// When the client connected and when the last byte was written (Unix ms); closes the listener.
    func finish() throws -> (accepted: Double, lastWrite: Double) {
        defer { close(listener) }
        return try done.withLock {
            while result == nil { done.wait() }
            return try result!.get()
        }
    }
}

/// The socket word-count child.
struct SocketWordCountChild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-socket-wordcount", abstract: "Benchmark child: socket word count.", shouldDisplay: false)

    @Option var port: Int
    @Option var lines: Int
    @Option var intervalMs: Int = 1000
    @Option var api: String = "bytes"
    @Option var maxPendingMb: Int = 0
    @Option(help: "Milliseconds between start() and the first batch time.") var leadMs: Double = 20

    func run() async throws {
        let execEpoch = Measure.processStartEpochMilliseconds() ?? Measure.epochMilliseconds()
        ChildSetup.quietLogging()
        let context = try StreamingContext(
            batchInterval: .milliseconds(intervalMs), configuration: StreamingConfiguration(logger: ChildSetup.logger))
        let outputs = OutputTally()
        var arriving: SocketTokenCountSource?
        if api == "arriving" {
            let source = maxPendingMb > 0
                ? SocketTokenCountSource(host: "127.0.0.1", port: port, maxPendingBytes: maxPendingMb << 20)
                : SocketTokenCountSource(host: "127.0.0.1", port: port)
            arriving = source
            try outputs.tally(context.inputStream(source))
        } else if api == "strings" {
            try outputs.tally(context.socketTextStream(host: "127.0.0.1", port: port)
                .flatMap { $0.split(separator: " ") }
                .map { (String($0), 1) }
                .reduceByKey(+))
        } else {
            let lines: DStream<ByteString> = maxPendingMb > 0
                ? context.inputStream(SocketLineSource<ByteString>(bytesFrom: "127.0.0.1", port: port, maxPendingBytes: maxPendingMb << 20))
                : context.socketLineStream(host: "127.0.0.1", port: port)
            try outputs.tally(lines.countTokens())
        }
        let progress = BatchProgress(target: lines)
        context.addListener(progress)
        // Start just before a batch boundary: start-up is then measured, not the phase of the clock.
        let interval = Double(intervalMs)
        let now = Measure.epochMilliseconds()
        var wait = (floor(now / interval) + 1) * interval - leadMs - now
        if wait < 0 { wait += interval }
        try await Task.sleep(for: .milliseconds(wait))
        try context.start()
        let startedEpoch = Measure.epochMilliseconds() - wait
        // For the source that counts as lines arrive: when every line was
        // counted, taken by a thread of its own that waits for it.
        let allCounted = CountedAt()
        if let arriving {
            Thread { [lines] in allCounted.record(arriving.waitUntilCounted(lines: lines, timeout: .seconds(600))) }.start()
        }
        try await progress.wait(timeout: .seconds(600))
        await context.stop(graceful: false)
        let summary = progress.summary
        let first = outputs.first
        ChildReport.emit([
            "lines": Double(summary.records),
            "words": Double(outputs.words),
            "batches": Double(summary.batches),
            "processingLinesPerSecond": Double(summary.records) / summary.processingSeconds,
            "lastEnd": Double(summary.lastEnd),
            "execToStarted": (startedEpoch - execEpoch) / 1000,
            "firstBatchRecords": Double(summary.firstBatchRecords),
            "firstBatchSeconds": ((first?.epoch ?? 0) - Double(summary.firstBatchTime)) / 1000,
            "execToFirstOutput": ((first?.epoch ?? 0) - execEpoch - wait) / 1000,
            "allCounted": arriving == nil ? 0 : allCounted.wait(),
        ])
    }
}

/// When a waiting thread saw every line counted (Unix ms; 0 if it timed out).
final class CountedAt: @unchecked Sendable {
    private let condition = NSCondition()
    private var epoch: Double?

    func record(_ counted: Bool) {
        condition.withLock {
            epoch = counted ? Measure.epochMilliseconds() : 0
            condition.broadcast()
        }
    }

    /// The recorded time, once the thread has recorded it.
    func wait() -> Double {
        condition.withLock {
            while epoch == nil { condition.wait() }
            return epoch ?? 0
        }
    }
}
