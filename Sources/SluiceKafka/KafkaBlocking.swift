import Dispatch

/// Runs blocking client calls on Dispatch threads, never on Swift's
/// cooperative thread pool (the async variants of the clients use it, and
/// so can code that makes several blocking calls in a row).
public enum KafkaBlocking {
    private static let queue = DispatchQueue(label: "sluice.kafka.blocking", attributes: .concurrent)

    /// Runs `body` on a Dispatch thread and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
