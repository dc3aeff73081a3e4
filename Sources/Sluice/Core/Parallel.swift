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
}
