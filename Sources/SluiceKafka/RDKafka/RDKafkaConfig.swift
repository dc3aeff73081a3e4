import CRdKafka
import Foundation

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
            throw Self.refusal(name: name, value: value, unknown: result == RD_KAFKA_CONF_UNKNOWN, librdkafkaText: text)
        }
    }

    /// The error for a property librdkafka refused, naming it; a secret's
    /// value is never shown, not even where librdkafka's text repeats it.
    static func refusal(name: String, value: String, unknown: Bool, librdkafkaText: String) -> KafkaError {
        let sensitive = KafkaPropertyRedaction.isSensitive(name)
        var text = librdkafkaText
        if sensitive, !value.isEmpty { text = text.replacingOccurrences(of: value, with: KafkaSecret.redactedText) }
        let reason = unknown ? "unknown property" : "invalid value \"\(sensitive ? KafkaSecret.redactedText : value)\""
        return KafkaError(
            code: .invalidConfiguration, message: "librdkafka rejected setting '\(name)' (\(reason)): \(text)", setting: name)
    }

    /// Gives up ownership: rd_kafka_new frees the conf only on success, so the
    /// caller calls this only after rd_kafka_new returned a handle.
    func releaseOwnership() { pointer = nil }

    deinit {
        if let pointer { rd_kafka_conf_destroy(pointer) }
    }
}

extension RDKafkaConfig {
    /// What a client checks at start, without creating one: `security`, then
    /// every property on a configuration that is thrown away.
    static func check(_ properties: [(name: String, value: String)], security: KafkaSecurityOptions) throws {
        try security.checkAtStart(properties: properties)
        _ = try RDKafkaConfig(properties: properties)
    }
}
