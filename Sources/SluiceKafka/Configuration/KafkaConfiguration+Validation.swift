extension KafkaConsumerConfiguration {
    /// Checks every setting as ``KafkaConsumer`` does when it starts (the
    /// security options, the librdkafka features they need, each property's
    /// name and value) without creating a client; throws a ``KafkaError``
    /// naming the setting.
    public func validate() throws {
        try RDKafkaConfig.check(librdkafkaProperties, security: security)
    }
}

extension KafkaProducerConfiguration {
    /// Checks every setting as ``KafkaProducer`` does when it starts, without
    /// creating a client; see ``KafkaConsumerConfiguration/validate()``.
    public func validate() throws {
        try RDKafkaConfig.check(librdkafkaProperties, security: security)
    }
}
