import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Small measuring helpers shared by the benchmarks.
enum Measure {
    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Unix time in milliseconds (comparable across processes).
    static func epochMilliseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    /// When this process started, in Unix milliseconds (from /proc/self/stat
    /// field 22, in clock ticks since boot).
    static func processStartEpochMilliseconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Field 3 (state) is fields[0], so field 22 (starttime) is fields[19].
        guard fields.count > 19, let ticks = Double(fields[19]),
              let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let uptime = Double(uptimeText.split(separator: " ")[0]) else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return epochMilliseconds() - (uptime - ticks / hertz) * 1000
    }

    /// A field of /proc/self/status in bytes ("VmRSS", "VmHWM").
    static func statusBytes(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kilobytes = Int(parts[1]) { return kilobytes * 1024 }
        }
        return 0
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// The p-th percentile (0...100) by nearest rank.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}

/// glibc's `malloc_trim`: returns freed heap memory to the system, so that
/// resident memory counts live data only.
@_silgen_name("malloc_trim")
func mallocTrim(_ pad: Int) -> Int32

/// glibc's `malloc_stats`: prints each arena's and the total memory in use to stderr.
@_silgen_name("malloc_stats")
func mallocStats()

/// glibc's `mallopt`: sets an allocator parameter (`M_MMAP_THRESHOLD` = -3).
@_silgen_name("mallopt")
func mallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// Formatting of figures.
enum Format {
    static func rate(_ value: Double) -> String {
        if value >= 1e6 { return String(format: "%.2f M", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f k", value / 1e3) }
        return String(format: "%.0f", value)
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

    static func ratio(_ value: Double) -> String { String(format: "%.2f×", value) }

    static func verdict(_ met: Bool) -> String { met ? "target met" : "TARGET MISSED" }
}

/// What a benchmark child reports: one line `RESULT {json}` on standard output.
struct ChildReport {
    var values: [String: Double]

    /// Prints `values` plus this process's peak RSS (`VmHWM`, which an exec
    /// resets; wait4's ru_maxrss is not used because after posix_spawn's
    /// vfork it also counts the parent's resident memory).
    static func emit(_ values: [String: Double]) {
        var values = values
        values["vmHWM"] = Double(Measure.statusBytes("VmHWM"))
        let data = (try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])) ?? Data()
        FileHandle.standardOutput.write(Data(("RESULT " + String(decoding: data, as: UTF8.self) + "\n").utf8))
    }

    init(_ result: ChildResult, what: String) throws {
        guard result.status == 0,
              let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst("RESULT ".count).utf8)) as? [String: Any] else {
            throw BenchError("\(what) failed (status \(result.status)): \(result.output.suffix(2000))")
        }
        values = object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    subscript(_ key: String) -> Double { values[key] ?? .nan }
}

extension ChildProcess {
    /// This executable, for benchmark children.
    static var selfPath: String { URL(fileURLWithPath: CommandLine.arguments[0]).path }

    /// Runs this executable with `arguments` and parses its `RESULT` line;
    /// adds the child's peak RSS as `peakRSS`.
    static func runSelf(_ arguments: [String], what: String) throws -> ChildReport {
        let result = try run(selfPath, arguments)
        var report = try ChildReport(result, what: what)
        report.values["peakRSS"] = report.values["vmHWM"] ?? Double(result.peakRSSBytes)
        return report
    }
}

/// Prints the machine's load, so a noisy run is visible in the output.
func printLoad() {
    if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
        let parts = load.split(separator: " ").prefix(3).joined(separator: " ")
        print("load average: \(parts) (\(ProcessInfo.processInfo.activeProcessorCount) cores)  date: \(ISO8601DateFormatter().string(from: Date()))")
    }
}
