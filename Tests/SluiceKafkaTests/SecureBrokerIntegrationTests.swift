import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// Round trip through a real broker that asks for SASL over TLS (librdkafka's
/// mock cluster speaks neither). Runs when these are set, and says why it
/// skips otherwise:
/// - `KAFKA_SASL_BOOTSTRAP_SERVERS` (else `KAFKA_BOOTSTRAP_SERVERS`): the broker's SASL listener;
/// - `KAFKA_SASL_USERNAME` and `KAFKA_SASL_PASSWORD`;
/// - optionally `KAFKA_SASL_MECHANISM` (default `SCRAM-SHA-512`),
///   `KAFKA_SECURITY_PROTOCOL` (default `sasl_ssl`), `KAFKA_SSL_CA` (a PEM
///   file; default: the system's CAs) and `KAFKA_SASL_TOPIC` (an existing
///   topic, for clusters where the user may not create one).
final class SecureBrokerIntegrationTests: XCTestCase {
    private struct Broker {
        var bootstrap: String
        var security: KafkaSecurityOptions
        var topic: String?
        var password: String
    }

    private func broker() throws -> Broker {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let bootstrap = value("KAFKA_SASL_BOOTSTRAP_SERVERS") ?? value("KAFKA_BOOTSTRAP_SERVERS"),
              let username = value("KAFKA_SASL_USERNAME"), let password = value("KAFKA_SASL_PASSWORD") else {
            throw XCTSkip("needs a real broker with a SASL listener: set KAFKA_SASL_BOOTSTRAP_SERVERS (or KAFKA_BOOTSTRAP_SERVERS), "
                + "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD; librdkafka's mock cluster speaks neither TLS nor SASL")
        }
        guard let mechanism = KafkaSASLMechanism(rawValue: value("KAFKA_SASL_MECHANISM") ?? "SCRAM-SHA-512"), mechanism.usesPassword,
              let securityProtocol = KafkaSecurityProtocol(rawValue: value("KAFKA_SECURITY_PROTOCOL") ?? "sasl_ssl"), securityProtocol.usesSASL
        else {
            throw XCTSkip("KAFKA_SASL_MECHANISM must be PLAIN or SCRAM-SHA-256/512 and KAFKA_SECURITY_PROTOCOL sasl_ssl or sasl_plaintext")
        }
        let security = KafkaSecurityOptions(
            securityProtocol: securityProtocol,
            sasl: KafkaSASLOptions(mechanism: mechanism, username: username, password: KafkaSecret(password)),
            tls: securityProtocol.usesTLS ? KafkaTLSOptions(caFile: value("KAFKA_SSL_CA")) : KafkaTLSOptions())
        return Broker(bootstrap: bootstrap, security: security, topic: value("KAFKA_SASL_TOPIC"), password: password)
    }

    func testRecordsRoundTripOverSASL() throws {
        let broker = try broker()
        let admin = try KafkaAdmin(bootstrapServers: broker.bootstrap, security: broker.security)
        let topic: String
        if let existing = broker.topic {
            topic = existing
        } else {
            topic = KafkaTestEnvironment.uniqueName("sasl")
            try admin.createTopic(topic, partitions: 1, replicationFactor: -1)
        }
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let start = try admin.watermarks(of: partition).high

        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: broker.bootstrap)
        producerConfiguration.security = broker.security
        let producer = try KafkaProducer(configuration: producerConfiguration)
        let run = UUID().uuidString
        for i in 0..<10 {
            try producer.send(KafkaProducerMessage(topic: topic, partition: 0, key: "\(run)-\(i)", value: "value-\(i)"))
        }
        try producer.flush(timeout: .seconds(60))
        try producer.close()

        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: broker.bootstrap)
        consumerConfiguration.security = broker.security
        let consumer = try KafkaConsumer(configuration: consumerConfiguration)
        defer { try? consumer.close() }
        try consumer.assign([partition: .offset(start)])
        let records = try KafkaTestSupport.consume(consumer, count: 10, timeout: .seconds(60))
        XCTAssertEqual(records.filter { $0.keyString?.hasPrefix(run) == true }.compactMap(\.valueString),
                       (0..<10).map { "value-\($0)" })
    }

    /// A wrong password fails the delivery with an authentication error that does not show it.
    func testWrongPasswordFailsWithoutShowingIt() throws {
        let broker = try broker()
        var configuration = KafkaProducerConfiguration(bootstrapServers: broker.bootstrap)
        configuration.security = broker.security
        let wrong = "wrong-\(UUID().uuidString)"
        configuration.security.sasl.password = KafkaSecret(wrong)
        configuration.messageTimeout = .seconds(15)
        let capture = LogCapture()
        let producer = try KafkaProducer(configuration: configuration, logger: capture.logger)
        try producer.send(KafkaProducerMessage(topic: broker.topic ?? "sluice-sasl-probe", partition: 0, value: Array("x".utf8)))
        XCTAssertThrowsError(try producer.flush(timeout: .seconds(30))) { error in
            XCTAssertFalse("\(error)".contains(wrong), "\(error)")
        }
        let log = capture.messages.joined(separator: "\n")
        XCTAssertTrue(log.lowercased().contains("authentication"), "the log says why: \(log.suffix(2_000))")
        XCTAssertFalse(log.contains(wrong) || log.contains(broker.password), log)
        try? producer.close(timeout: .seconds(1))
    }
}
