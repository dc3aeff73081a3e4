import Logging
import SluiceKafka

/// How a command's Kafka clients reach the cluster: the security options
/// and pass-through librdkafka properties shared by its consumers,
/// producers and topic administration.
public struct KafkaConnectionSettings: Sendable {
    /// Default: plaintext.
    public var security = KafkaSecurityOptions()
    /// Extra librdkafka properties, applied last. Default: empty.
    public var additionalProperties: [String: String] = [:]
    /// What to warn about once at start (secrets given in arguments). Default: empty.
    public var warnings: [String] = []

    public init(security: KafkaSecurityOptions = KafkaSecurityOptions(), additionalProperties: [String: String] = [:], warnings: [String] = []) {
        self.security = security
        self.additionalProperties = additionalProperties
        self.warnings = warnings
    }

    /// Gives `configuration` these settings (pass-through properties win
    /// over ones it already had).
    public func apply(to configuration: inout KafkaConsumerConfiguration) {
        configuration.security = security
        configuration.additionalProperties.merge(additionalProperties) { _, new in new }
    }

    /// Gives `configuration` these settings (pass-through properties win
    /// over ones it already had).
    public func apply(to configuration: inout KafkaProducerConfiguration) {
        configuration.security = security
        configuration.additionalProperties.merge(additionalProperties) { _, new in new }
    }

    /// Topic administration on the cluster at `bootstrapServers`.
    public func admin(bootstrapServers: String, logger: Logger) throws -> KafkaAdmin {
        try KafkaAdmin(bootstrapServers: bootstrapServers, security: security, additionalProperties: additionalProperties, logger: logger)
    }

    /// Logs each warning once.
    public func logWarnings(_ logger: Logger) {
        for warning in warnings { logger.warning("\(warning)") }
    }

    /// Checks the security options as a client would at start, so a command
    /// fails before it opens anything else.
    func validate() throws {
        var probe = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        apply(to: &probe)
        try probe.validate()
    }
}
