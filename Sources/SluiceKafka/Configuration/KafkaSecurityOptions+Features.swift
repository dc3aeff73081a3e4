extension KafkaSecurityOptions {
    /// What every client checks before it sets a property: the options agree
    /// with each other and with `properties` (the full list it will set),
    /// and the linked librdkafka has the features they need.
    func checkAtStart(properties: [(name: String, value: String)]) throws {
        try validate(passThrough: Set(properties.map(\.name)))
        try checkFeatures(available: RDKafkaLibrary.builtinFeatures, version: RDKafkaLibrary.version)
    }

    /// Throws a ``KafkaError`` naming the `builtin.features` entries these
    /// options need that `available` lacks.
    func checkFeatures(available: Set<String>, version: String) throws {
        let missing = requiredFeatures.filter { !available.contains($0) }
        guard !missing.isEmpty else { return }
        let asked = [securityProtocol.rawValue] + (securityProtocol.usesSASL ? sasl.mechanism.map { [$0.rawValue] } ?? [] : [])
        throw KafkaError(
            code: .invalidConfiguration,
            message: "security settings \(asked.joined(separator: " + ")) need librdkafka's \(missing.map { "'\($0)'" }.joined(separator: ", ")) "
                + "feature, which the installed librdkafka \(version) lacks (builtin.features: "
                + "\(available.sorted().joined(separator: ","))); install a librdkafka built with it",
            setting: "builtin.features")
    }
}
