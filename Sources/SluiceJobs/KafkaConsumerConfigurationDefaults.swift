import SluiceKafka

/// Consumer settings for long-running jobs: quicker failure detection than
/// Kafka's defaults (a killed job's partitions move within ~10 s).
public enum KafkaConsumerConfigurationDefaults {
    public static func forJobs(bootstrap: String, group: String) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: group)
        configuration.session.timeout = .seconds(10)
        configuration.session.heartbeatInterval = .seconds(1)
        configuration.reconnect.maxBackoff = .seconds(1)
        return configuration
    }
}
