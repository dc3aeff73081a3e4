import CRdKafka

/// Owns an `rd_kafka_conf_t` until it is handed to `rd_kafka_new`.
final class RDKafkaConfig {
    private(set) var pointer: OpaquePointer?

    /// Builds a configuration, setting each property in order. A property
    /// librdkafka rejects throws an error with its own message and the name.
    init(properties: [(name: String, value: String)]) throws {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .fail, message: "librdkafka could not allocate a configuration")
        }
        pointer = conf
        for (name, value) in properties {
            try set(name, value)
        }
    }

    func set(_ name: String, _ value: String) throws {
        guard let pointer else { return }
        var errorText = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(pointer, name, value, &errorText, errorText.count)
        guard result == RD_KAFKA_CONF_OK else {
            let text = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let reason = result == RD_KAFKA_CONF_UNKNOWN ? "unknown property" : "invalid value \"\(value)\""
            throw KafkaError(
                code: .invalidConfiguration,
                message: "librdkafka rejected setting '\(name)' (\(reason)): \(text)",
                setting: name
            )
        }
    }

    /// Gives up ownership: rd_kafka_new frees the conf only on success, so the
    /// caller calls this only after rd_kafka_new returned a handle.
    func releaseOwnership() { pointer = nil }

    deinit {
        if let pointer { rd_kafka_conf_destroy(pointer) }
    }
}
