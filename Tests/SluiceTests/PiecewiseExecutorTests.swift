#if canImport(Glibc)
import Glibc
#endif
@testable import Sluice
import Testing

/// Work on records still arriving runs below the priority of the threads
/// that read them, so it only takes the CPU the read leaves.
@Suite struct PiecewiseExecutorTests {
    #if os(Linux)
    private static func niceness() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    @Test func piecewiseWorkRunsAtALowerPriority() async {
        let callers = Self.niceness()
        let workers = await withTaskExecutorPreference(PiecewiseExecutor.shared) { Self.niceness() }
        #expect(workers >= 5)
        #expect(workers > callers || callers >= 5)
    }
    #endif
}
