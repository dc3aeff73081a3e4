/// Runs per-partition work on the cooperative pool, one child task per item,
/// and returns results in input order (so output never depends on timing).
@usableFromInline
enum Parallel {
    @inlinable
    static func map<T: Sendable, R: Sendable>(
        _ items: [T],
        _ transform: @escaping @Sendable (T) -> R
    ) async -> [R] {
        if items.count <= 1 {
            return items.map(transform)
        }
        return await withTaskGroup(of: (Int, R).self, returning: [R].self) { group in
            for (index, item) in items.enumerated() {
                group.addTask { (index, transform(item)) }
            }
            var results = [R?](repeating: nil, count: items.count)
            for await (index, value) in group {
                results[index] = value
            }
            return results.compactMap { $0 }
        }
    }

    /// `map` for work that waits (partitions still arriving) and may throw:
    /// the first error is thrown and the other tasks cancelled. With an
    /// `executor`, the tasks run there.
    @inlinable
    static func mapThrowing<T: Sendable, R: Sendable>(
        _ items: [T],
        on executor: (any TaskExecutor)? = nil,
        _ transform: @escaping @Sendable (T) async throws -> R
    ) async throws -> [R] {
        if items.count == 1 && executor == nil { return [try await transform(items[0])] }
        return try await withThrowingTaskGroup(of: (Int, R).self, returning: [R].self) { group in
            for (index, item) in items.enumerated() {
                group.addTask(executorPreference: executor) { (index, try await transform(item)) }
            }
            var results = [R?](repeating: nil, count: items.count)
            for try await (index, value) in group {
                results[index] = value
            }
            return results.compactMap { $0 }
        }
    }
}
