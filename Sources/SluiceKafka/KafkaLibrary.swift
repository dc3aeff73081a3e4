/// The librdkafka this process runs with.
public enum KafkaLibrary {
    /// What librdkafka was built with (its `builtin.features`), e.g. `ssl`,
    /// `sasl_plain`, `sasl_scram`, `sasl_oauthbearer`. Debian's 2.0.2 lacks
    /// `http`, which librdkafka's OIDC token flow needs.
    public static var builtinFeatures: Set<String> { RDKafkaLibrary.builtinFeatures }

    /// librdkafka's version string, e.g. `2.0.2`.
    public static var version: String { RDKafkaLibrary.version }
}
