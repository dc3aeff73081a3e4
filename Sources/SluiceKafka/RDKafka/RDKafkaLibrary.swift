import CRdKafka

/// Facts about the linked librdkafka.
enum RDKafkaLibrary {
    /// `builtin.features` of a fresh configuration: what this librdkafka was
    /// built with (`ssl`, `sasl_plain`, `sasl_scram`, `sasl_oauthbearer`, …).
    static let builtinFeatures: Set<String> = {
        guard let conf = rd_kafka_conf_new() else { return [] }
        defer { rd_kafka_conf_destroy(conf) }
        var size = 0
        guard rd_kafka_conf_get(conf, "builtin.features", nil, &size) == RD_KAFKA_CONF_OK, size > 0 else { return [] }
        var text = [CChar](repeating: 0, count: size)
        guard rd_kafka_conf_get(conf, "builtin.features", &text, &size) == RD_KAFKA_CONF_OK else { return [] }
        let features = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Set(features.split(separator: ",").map(String.init))
    }()

    /// librdkafka's version, e.g. `2.0.2`.
    static var version: String {
        guard let text = rd_kafka_version_str() else { return "unknown" }
        return String(cString: text)
    }
}
