import DequeModule
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Threads that run the work done on a batch's records while later records
/// of the same batch are still being read (``PartitionArrival``), one per
/// core, at a lower scheduling priority than the input's threads (nice +5
/// on Linux).
///
/// Why: the read of a batch is its critical path, and it runs on a few
/// threads of its own (librdkafka's broker thread, the direct stream's fetch
/// thread). At equal priority, two processing threads on two cores halve
/// their share: in the Kafka word-count benchmark the batch then ended up to
/// four times later than when it waited for its records. Below them,
/// processing takes mostly the CPU the read leaves, and all of it once the
/// read is done. Nice +5 (a quarter of the read's share when both want a
/// core) rather than +10: at +10, 10 ms batches missed their latency target
/// in two of five runs, their counting starved by busy neighbours. Only this
/// overlapped work runs here; everything else stays on the cooperative pool.
final class PiecewiseExecutor: TaskExecutor, @unchecked Sendable {
    /// The process's pool, started on first use.
    static let shared = PiecewiseExecutor(threads: max(1, ProcessInfo.processInfo.activeProcessorCount), niceness: 5)

    private let condition = NSCondition()
    private var jobs: Deque<UnownedJob> = []

    init(threads: Int, niceness: Int32) {
        for index in 0..<threads {
            let thread = Thread { [self] in
                #if os(Linux)
                // On Linux the nice value is per thread: who 0 is this thread.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
                #endif
                runJobs()
            }
            thread.name = "sluice-piecewise-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
