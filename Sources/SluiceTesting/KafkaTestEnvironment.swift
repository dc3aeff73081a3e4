import Foundation
import SluiceKafka

/// Settings for tests that talk to Kafka: short group timeouts (the mock's
/// rebalances take ~session timeout otherwise) and fast reconnects.
public enum KafkaTestEnvironment {
    /// The bootstrap servers of a real broker, when `KAFKA_BOOTSTRAP_SERVERS` is set.
    public static var realBrokerBootstrap: String? {
        let value = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"]
        return value?.isEmpty == false ? value : nil
    }

    /// A consumer configuration suited to tests against the mock cluster.
    public static func consumerConfiguration(
        bootstrap: String, groupID: String? = nil, from reset: KafkaAutoOffsetReset = .earliest
    ) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: groupID)
        configuration.autoOffsetReset = reset
        configuration.session.timeout = .seconds(6)
        configuration.session.heartbeatInterval = .milliseconds(500)
        configuration.reconnect.maxBackoff = .seconds(1)
        return configuration
    }

    /// A producer configuration suited to tests against the mock cluster.
    public static func producerConfiguration(bootstrap: String) -> KafkaProducerConfiguration {
        var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        configuration.linger = .milliseconds(1)
        configuration.reconnect.maxBackoff = .seconds(1)
        return configuration
    }

    /// A name nobody else uses in this process, for topics and groups.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
    }
}
