import Dispatch

/// Runs blocking client calls on Dispatch threads, never on Swift's
/// cooperative thread pool.
enum KafkaBlocking {
    private static let queue = DispatchQueue(label: "sluice.kafka.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
