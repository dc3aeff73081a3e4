/// Hides secrets in librdkafka properties before they are shown.
public enum KafkaPropertyRedaction {
    /// Whether a librdkafka property holds a secret (passwords, keys, tokens,
    /// OAuth client secrets and configs), so its value must not be shown.
    public static func isSensitive(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["password", "secret", "token", "ssl.key.pem", "sasl.oauthbearer.config", "ssl_key"]
            .contains { lowered.contains($0) }
    }

    /// The properties with every sensitive value replaced by `<redacted>`.
    public static func redacted(_ properties: [(name: String, value: String)]) -> [(name: String, value: String)] {
        properties.map { isSensitive($0.name) ? ($0.name, KafkaSecret.redactedText) : $0 }
    }

    /// `name=value` lines with sensitive values redacted, for logs.
    public static func dump(_ properties: [(name: String, value: String)]) -> String {
        redacted(properties).map { "\($0.name)=\($0.value)" }.joined(separator: "\n")
    }
}
