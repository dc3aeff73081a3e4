/// An error from the Kafka client: librdkafka's error code, a readable message
/// that says what to fix, and how the error may be handled.
///
/// `isRetriable` errors may succeed when the same call is made again;
/// `isFatal` errors leave the client unusable (close it and create a new one);
/// `requiresTransactionAbort` errors leave the current transaction unusable
/// (abort it, then begin a new one).
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// librdkafka's error code (`rd_kafka_resp_err_t`), kept extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The raw `rd_kafka_resp_err_t` value.
        public let rawValue: Int32
        /// librdkafka's symbolic name for the code, e.g. `UNKNOWN_TOPIC_OR_PART`.
        public var name: String { RDKafkaErrorNames.name(of: rawValue) }

        public init(rawValue: Int32) { self.rawValue = rawValue }

        public var description: String { "\(name) (\(rawValue))" }
    }

    /// What went wrong, as a code.
    public var code: Code
    /// A readable message; it names the setting, topic, partition, offset or
    /// address involved and, where possible, how to fix it.
    public var message: String
    /// The configuration property concerned, for configuration errors.
    public var setting: String?
    /// Whether making the same call again may succeed.
    public var isRetriable: Bool
    /// Whether the client is unusable from now on.
    public var isFatal: Bool
    /// Whether the current transaction must be aborted (transactional producers).
    public var requiresTransactionAbort: Bool
    /// The error that caused this one, if any.
    public var underlying: (any Error & Sendable)?

    public init(
        code: Code,
        message: String,
        setting: String? = nil,
        isRetriable: Bool = false,
        isFatal: Bool = false,
        requiresTransactionAbort: Bool = false,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.setting = setting
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.requiresTransactionAbort = requiresTransactionAbort
        self.underlying = underlying
    }

    public var description: String {
        var flags: [String] = []
        if isFatal { flags.append("fatal") }
        if isRetriable { flags.append("retriable") }
        if requiresTransactionAbort { flags.append("abort transaction") }
        let suffix = flags.isEmpty ? "" : " [\(flags.joined(separator: ", "))]"
        return "KafkaError \(code.name): \(message)\(suffix)"
    }
}

extension KafkaError {
    static func closed(_ what: String) -> KafkaError {
        KafkaError(code: .state, message: "\(what): the client is closed; create a new one")
    }
}
