#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One ``TokenCountTable`` per thread that counts, for one batch.
///
/// Why: every table ends up holding nearly the whole vocabulary, so a
/// table per input partition multiplies the memory by the partition count
/// (8 × 1.3 MB of slots for a 10,000-word vocabulary in the Kafka word-count
/// benchmark), where a table per thread multiplies it by the cores. Counts
/// are sums, so the merged result is the same however the work was spread.
///
/// A table is only written by its thread (inside a synchronous call, so no
/// other task runs on that thread meanwhile) and only read once every
/// counting task has finished.
final class PerThreadTokenTables: @unchecked Sendable {
    private let lock = Locked<[(thread: pthread_t, table: TokenCountTable)]>([])

    /// The calling thread's table, made on its first call.
    func current() -> TokenCountTable {
        let me = pthread_self()
        return lock.withLock { tables in
            if let found = tables.first(where: { pthread_equal($0.thread, me) != 0 }) { return found.table }
            let table = TokenCountTable()
            tables.append((me, table))
            return table
        }
    }

    /// Every table made; call once the counting is done.
    var tables: [TokenCountTable] { lock.withLock { $0.map(\.table) } }
}
