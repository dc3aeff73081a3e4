/// How a client authenticates to the brokers and encrypts its connections:
/// one value shared by ``KafkaConsumerConfiguration``,
/// ``KafkaProducerConfiguration`` and ``KafkaAdmin``, translated into
/// librdkafka's `security.protocol`, `sasl.*` and `ssl.*` properties.
///
/// Checked when the client starts: settings that contradict each other,
/// missing credentials or certificate files, and librdkafka features the
/// settings need but the installed librdkafka lacks (`builtin.features`)
/// throw a ``KafkaError`` naming the setting.
public struct KafkaSecurityOptions: Sendable {
    /// Whether connections use TLS and/or SASL. Default: `.plaintext`.
    public var securityProtocol: KafkaSecurityProtocol = .plaintext
    /// SASL authentication, for `.saslPlaintext` and `.saslSSL`.
    public var sasl = KafkaSASLOptions()
    /// TLS settings, for `.ssl` and `.saslSSL`.
    public var tls = KafkaTLSOptions()

    public init(securityProtocol: KafkaSecurityProtocol = .plaintext,
                sasl: KafkaSASLOptions = KafkaSASLOptions(), tls: KafkaTLSOptions = KafkaTLSOptions()) {
        self.securityProtocol = securityProtocol
        self.sasl = sasl
        self.tls = tls
    }

    /// The librdkafka properties these options stand for.
    var librdkafkaProperties: [(name: String, value: String)] {
        var properties: [(name: String, value: String)] = [("security.protocol", securityProtocol.rawValue)]
        if securityProtocol.usesSASL, let mechanism = sasl.mechanism {
            properties.append(("sasl.mechanism", mechanism.rawValue))
            if mechanism.usesPassword {
                if let username = sasl.username { properties.append(("sasl.username", username)) }
                if let password = sasl.password { properties.append(("sasl.password", password.revealed)) }
            }
        }
        if securityProtocol.usesTLS {
            if let caFile = tls.caFile { properties.append(("ssl.ca.location", caFile)) }
            if let certificateFile = tls.certificateFile { properties.append(("ssl.certificate.location", certificateFile)) }
            if let keyFile = tls.keyFile { properties.append(("ssl.key.location", keyFile)) }
            if let keyPassword = tls.keyPassword { properties.append(("ssl.key.password", keyPassword.revealed)) }
            properties.append(("ssl.endpoint.identification.algorithm", tls.verifiesHostname ? "https" : "none"))
        }
        return properties
    }

    /// The `builtin.features` of librdkafka these options need.
    var requiredFeatures: [String] {
        var features: [String] = []
        if securityProtocol.usesTLS { features.append("ssl") }
        if securityProtocol.usesSASL, let mechanism = sasl.mechanism { features.append(mechanism.requiredFeature) }
        return features
    }
}

/// librdkafka's `security.protocol`.
public enum KafkaSecurityProtocol: String, Sendable, CaseIterable {
    /// No TLS, no authentication.
    case plaintext
    /// TLS, optionally with a client certificate.
    case ssl
    /// SASL authentication over an unencrypted connection.
    case saslPlaintext = "sasl_plaintext"
    /// SASL authentication over TLS (what managed Kafka services use).
    case saslSSL = "sasl_ssl"

    /// Whether connections are encrypted with TLS.
    public var usesTLS: Bool { self == .ssl || self == .saslSSL }
    /// Whether the client authenticates with SASL.
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
}
