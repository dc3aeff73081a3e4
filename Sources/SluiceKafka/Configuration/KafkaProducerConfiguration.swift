/// Everything a ``KafkaProducer`` needs, as a value.
///
/// Translated into librdkafka properties in exactly one place
/// (``librdkafkaProperties``); any other librdkafka property can be passed
/// through ``additionalProperties`` and is validated when the producer starts.
public struct KafkaProducerConfiguration: Sendable {
    /// Comma-separated `host:port` list of bootstrap brokers. Required.
    public var bootstrapServers: String
    /// The client id brokers log. Default: `"sluice"`.
    public var clientID: String = "sluice"
    /// Exactly-once per partition within a producer session (acks=all,
    /// ordered retries). Default: `true`.
    public var enableIdempotence: Bool = true
    /// Makes the producer transactional; a stable id per job fences zombie
    /// instances. Implies idempotence. Default: `nil`.
    public var transactionalID: String?
    /// How long a transaction may stay open before the broker aborts it. Default: 60 s.
    public var transactionTimeout: Duration = .seconds(60)
    /// Compression of produced batches. Default: `.none`.
    public var compression: KafkaCompression = .none
    /// How long the producer waits to fill a batch. Default: 5 ms.
    public var linger: Duration = .milliseconds(5)
    /// A record not acknowledged in this time fails with `messageTimedOut`.
    /// A transactional producer uses at most ``transactionTimeout`` (librdkafka
    /// refuses a longer one). Default: 300 s.
    public var messageTimeout: Duration = .seconds(300)
    /// Most records held in the local queue before `send` waits. Default: 100,000.
    public var queueBufferingMaxMessages: Int = 100_000
    /// Connection retry backoff.
    public var reconnect = ReconnectOptions()
    /// TLS and SASL: how the client authenticates and encrypts its connections.
    public var security = KafkaSecurityOptions()
    /// Any other librdkafka property (`name → value`), validated at start.
    /// Default: empty.
    public var additionalProperties: [String: String] = [:]

    /// Creates a configuration; only the bootstrap servers are required.
    public init(bootstrapServers: String, transactionalID: String? = nil) {
        self.bootstrapServers = bootstrapServers
        self.transactionalID = transactionalID
    }

    /// The librdkafka properties this configuration stands for, in the
    /// order they are applied (``additionalProperties`` last, so they win).
    public var librdkafkaProperties: [(name: String, value: String)] {
        var properties: [(name: String, value: String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("client.id", clientID),
            ("enable.idempotence", (enableIdempotence || transactionalID != nil) ? "true" : "false"),
            ("compression.codec", compression.rawValue),
            ("linger.ms", linger.kafkaMilliseconds),
            ("message.timeout.ms", effectiveMessageTimeout.kafkaMilliseconds),
            ("queue.buffering.max.messages", String(queueBufferingMaxMessages)),
        ]
        if let transactionalID {
            properties.append(("transactional.id", transactionalID))
            properties.append(("transaction.timeout.ms", transactionTimeout.kafkaMilliseconds))
        }
        properties += reconnect.librdkafkaProperties
        properties += security.librdkafkaProperties
        properties += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return properties
    }
}

extension KafkaProducerConfiguration {
    /// librdkafka refuses `message.timeout.ms` > `transaction.timeout.ms`, so a
    /// transactional producer with the defaults (300 s vs 60 s) would not
    /// start; the message timeout is capped at the transaction timeout.
    var effectiveMessageTimeout: Duration {
        transactionalID == nil ? messageTimeout : min(messageTimeout, transactionTimeout)
    }
}

/// Compression codec for produced record batches.
public enum KafkaCompression: String, Sendable, CaseIterable {
    case none, gzip, snappy, lz4, zstd
}
