/// How quickly a client retries a broker connection that failed.
public struct ReconnectOptions: Sendable {
    /// First wait after a failed connection. Default: 100 ms.
    public var backoff: Duration = .milliseconds(100)
    /// Longest wait between attempts. Keep ~1 s in tests where brokers go
    /// down and come back. Default: 10 s.
    public var maxBackoff: Duration = .seconds(10)

    public init() {}

    var librdkafkaProperties: [(name: String, value: String)] {
        [("reconnect.backoff.ms", backoff.kafkaMilliseconds), ("reconnect.backoff.max.ms", maxBackoff.kafkaMilliseconds)]
    }
}

extension Duration {
    /// Whole milliseconds as librdkafka wants them in a property string.
    var kafkaMilliseconds: String { String(milliseconds) }

    /// Whole milliseconds, rounded down, clamped to `Int32` for C calls.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return seconds < 0 ? Int(Int32.min) : Int(Int32.max) }
        return Int(ms.partialValue) + Int(attoseconds / 1_000_000_000_000_000)
    }

    var timeoutMilliseconds: Int32 { Int32(clamping: max(0, milliseconds)) }
}
