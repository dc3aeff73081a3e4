import Foundation
@testable import SluiceKafka
import SluiceTesting
import XCTest

/// TLS and SASL settings: what each yields in librdkafka, which
/// combinations fail at start (naming the setting), the `builtin.features`
/// check, and that no secret is ever shown. librdkafka's mock cluster speaks
/// neither TLS nor SASL, so connecting is tested by the real-broker test
/// (`SecureBrokerIntegrationTests`).
final class SecurityConfigurationTests: XCTestCase {
    private func effective(_ properties: [(name: String, value: String)]) -> [String: String] {
        Dictionary(properties.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Properties of the security group only (`security.protocol`, `sasl.*`, `ssl.*`).
    private func securityProperties(_ properties: [(name: String, value: String)]) -> [String: String] {
        effective(properties).filter { $0.key == "security.protocol" || $0.key.hasPrefix("sasl.") || $0.key.hasPrefix("ssl.") }
    }

    /// Made once for the class: each openssl run takes a while.
    private nonisolated(unsafe) static var shared: Result<TestCertificates, any Error>?
    private var certificates: TestCertificates!
    private var files: (ca: String, certificate: String, key: String)!
    private var directory: URL { certificates.directory }

    override func setUpWithError() throws {
        guard TestCertificates.opensslAvailable else { throw XCTSkip("openssl is needed to make test certificates") }
        let made = Self.shared ?? Result {
            try TestCertificates(in: FileManager.default.temporaryDirectory.appendingPathComponent("sluice-security-\(UUID().uuidString)"))
        }
        Self.shared = made
        certificates = try made.get()
        files = (certificates.caCertificate, certificates.clientCertificate, certificates.clientKey)
    }

    override class func tearDown() {
        if case .success(let certificates)? = shared { try? FileManager.default.removeItem(at: certificates.directory) }
        shared = nil
        super.tearDown()
    }

    private func scramOverTLS() -> KafkaSecurityOptions {
        KafkaSecurityOptions(
            securityProtocol: .saslSSL,
            sasl: KafkaSASLOptions(mechanism: .scramSHA512, username: "alice", password: "s3cret-pw"),
            tls: KafkaTLSOptions(caFile: files.ca, certificateFile: files.certificate, keyFile: files.key,
                                 keyPassword: "key-pw", verifiesHostname: false))
    }

    // MARK: Translation

    func testPlaintextDefaultSetsOnlyTheProtocol() {
        XCTAssertEqual(securityProperties(KafkaConsumerConfiguration(bootstrapServers: "h:9").librdkafkaProperties),
                       ["security.protocol": "plaintext"])
        XCTAssertEqual(securityProperties(KafkaProducerConfiguration(bootstrapServers: "h:9").librdkafkaProperties),
                       ["security.protocol": "plaintext"])
    }

    /// Every option of the group yields its property, the same in the
    /// consumer's and the producer's translation.
    func testEveryOptionYieldsItsLibrdkafkaProperty() {
        let expected = [
            "security.protocol": "sasl_ssl",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "alice",
            "sasl.password": "s3cret-pw",
            "ssl.ca.location": files.ca,
            "ssl.certificate.location": files.certificate,
            "ssl.key.location": files.key,
            "ssl.key.password": "key-pw",
            "ssl.endpoint.identification.algorithm": "none",
        ]
        var consumer = KafkaConsumerConfiguration(bootstrapServers: "h:9")
        consumer.security = scramOverTLS()
        XCTAssertEqual(securityProperties(consumer.librdkafkaProperties), expected)
        var producer = KafkaProducerConfiguration(bootstrapServers: "h:9")
        producer.security = scramOverTLS()
        XCTAssertEqual(securityProperties(producer.librdkafkaProperties), expected)
    }

    func testEachProtocolAndMechanismHasLibrdkafkasName() {
        for (securityProtocol, name) in [(KafkaSecurityProtocol.plaintext, "plaintext"), (.ssl, "ssl"),
                                         (.saslPlaintext, "sasl_plaintext"), (.saslSSL, "sasl_ssl")] {
            let options = KafkaSecurityOptions(securityProtocol: securityProtocol)
            XCTAssertEqual(effective(options.librdkafkaProperties)["security.protocol"], name)
            XCTAssertEqual(effective(options.librdkafkaProperties)["ssl.endpoint.identification.algorithm"],
                           securityProtocol.usesTLS ? "https" : nil, "hostname verification is on by default with TLS")
        }
        for (mechanism, name) in [(KafkaSASLMechanism.plain, "PLAIN"), (.scramSHA256, "SCRAM-SHA-256"),
                                  (.scramSHA512, "SCRAM-SHA-512"), (.oauthBearer, "OAUTHBEARER")] {
            let options = KafkaSecurityOptions(securityProtocol: .saslPlaintext, sasl: KafkaSASLOptions(mechanism: mechanism, username: "u", password: "p"))
            let properties = effective(options.librdkafkaProperties)
            XCTAssertEqual(properties["sasl.mechanism"], name)
            XCTAssertEqual(properties["sasl.password"], mechanism == .oauthBearer ? nil : "p", "a token, not a password, for OAUTHBEARER")
        }
    }

    /// librdkafka takes the translation: a client with SCRAM over TLS and a
    /// client certificate whose key is encrypted starts (it connects only
    /// later), and with a wrong key password it does not, so the password
    /// reached librdkafka.
    func testLibrdkafkaAcceptsTheTranslatedSettings() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.security = scramOverTLS()
        configuration.security.tls.keyPassword = KafkaSecret(certificates.clientKeyPassword)
        let producer = try KafkaProducer(configuration: configuration)
        try producer.close(timeout: .seconds(1))

        configuration.security.tls.keyPassword = "wrong-password"
        XCTAssertThrowsError(try KafkaProducer(configuration: configuration)) { error in
            XCTAssertTrue("\(error)".contains("ssl.key.location"), "\(error)")
            XCTAssertFalse("\(error)".contains("wrong-password"), "\(error)")
        }
    }

    // MARK: Combinations that fail at start

    private func assertRefused(_ security: KafkaSecurityOptions, setting: String, mentions text: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.security = security
        XCTAssertThrowsError(try KafkaConsumer(configuration: configuration), file: file, line: line) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error) is not a KafkaError", file: file, line: line) }
            XCTAssertEqual(error.code, .invalidConfiguration, file: file, line: line)
            XCTAssertEqual(error.setting, setting, error.message, file: file, line: line)
            XCTAssertTrue(error.message.hasPrefix(setting), error.message, file: file, line: line)
            XCTAssertTrue(error.message.contains(text), error.message, file: file, line: line)
        }
    }

    func testContradictoryOrIncompleteSettingsFailNamingTheSetting() {
        assertRefused(KafkaSecurityOptions(securityProtocol: .saslSSL), setting: "security.sasl.mechanism", mentions: "SCRAM-SHA-256")
        assertRefused(KafkaSecurityOptions(securityProtocol: .ssl, sasl: KafkaSASLOptions(mechanism: .plain, username: "u", password: "p")),
                      setting: "security.securityProtocol", mentions: "use sasl_ssl")
        assertRefused(KafkaSecurityOptions(securityProtocol: .saslSSL, sasl: KafkaSASLOptions(mechanism: .plain, password: "p")),
                      setting: "security.sasl.username", mentions: "PLAIN")
        assertRefused(KafkaSecurityOptions(securityProtocol: .saslSSL, sasl: KafkaSASLOptions(mechanism: .scramSHA256, username: "u")),
                      setting: "security.sasl.password", mentions: "'u'")
        assertRefused(KafkaSecurityOptions(securityProtocol: .saslSSL, sasl: KafkaSASLOptions(mechanism: .oauthBearer)),
                      setting: "security.sasl.oauthBearerToken", mentions: "'http' feature")
        assertRefused(KafkaSecurityOptions(securityProtocol: .saslSSL, sasl: KafkaSASLOptions(
                          mechanism: .oauthBearer, password: "p",
                          oauthBearerToken: { KafkaOAuthBearerToken(value: "t", principal: "p", expiresAt: Date()) })),
                      setting: "security.sasl.password", mentions: "not a password")
        assertRefused(KafkaSecurityOptions(securityProtocol: .plaintext, tls: KafkaTLSOptions(caFile: files.ca)),
                      setting: "security.tls", mentions: "use ssl or sasl_ssl")
        assertRefused(KafkaSecurityOptions(securityProtocol: .saslPlaintext, sasl: KafkaSASLOptions(mechanism: .plain, username: "u", password: "p"),
                                           tls: KafkaTLSOptions(verifiesHostname: false)),
                      setting: "security.tls", mentions: "sasl_plaintext")
        assertRefused(KafkaSecurityOptions(securityProtocol: .ssl, tls: KafkaTLSOptions(certificateFile: files.certificate)),
                      setting: "security.tls.keyFile", mentions: "security.tls.certificateFile is set")
        assertRefused(KafkaSecurityOptions(securityProtocol: .ssl, tls: KafkaTLSOptions(keyFile: files.key)),
                      setting: "security.tls.certificateFile", mentions: "security.tls.keyFile is set")
        assertRefused(KafkaSecurityOptions(securityProtocol: .ssl, tls: KafkaTLSOptions(keyPassword: "k")),
                      setting: "security.tls.keyPassword", mentions: "without a key file")
        let missing = directory.appendingPathComponent("no-such-ca.pem").path
        assertRefused(KafkaSecurityOptions(securityProtocol: .ssl, tls: KafkaTLSOptions(caFile: missing)),
                      setting: "security.tls.caFile", mentions: missing)
    }

    /// A mechanism librdkafka knows but the typed options do not (GSSAPI)
    /// can be passed through instead.
    func testPassedThroughMechanismReplacesTheTypedOne() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.security.securityProtocol = .saslPlaintext
        configuration.additionalProperties["sasl.mechanism"] = "PLAIN"
        configuration.additionalProperties["sasl.username"] = "u"
        configuration.additionalProperties["sasl.password"] = "p"
        let producer = try KafkaProducer(configuration: configuration)
        try producer.close(timeout: .seconds(1))
    }

    // MARK: builtin.features

    /// Debian's librdkafka has what every typed option needs.
    func testInstalledLibrdkafkaHasTheSecurityFeatures() {
        XCTAssertTrue(Set(["ssl", "sasl_plain", "sasl_scram", "sasl_oauthbearer"]).isSubset(of: KafkaLibrary.builtinFeatures),
                      "\(KafkaLibrary.builtinFeatures.sorted())")
    }

    func testMissingFeatureIsNamed() {
        let options = scramOverTLS()
        XCTAssertEqual(options.requiredFeatures, ["ssl", "sasl_scram"])
        XCTAssertNoThrow(try options.checkFeatures(available: ["ssl", "sasl_scram"], version: "9.9"))
        XCTAssertThrowsError(try options.checkFeatures(available: ["ssl", "sasl_plain", "gzip"], version: "9.9")) { error in
            let error = error as? KafkaError
            XCTAssertEqual(error?.setting, "builtin.features")
            let message = error?.message ?? ""
            XCTAssertTrue(message.contains("'sasl_scram'") && !message.contains("'ssl'"), message)
            XCTAssertTrue(message.contains("sasl_ssl + SCRAM-SHA-512") && message.contains("9.9")
                          && message.contains("gzip,sasl_plain,ssl"), message)
        }
        let oauth = KafkaSecurityOptions(securityProtocol: .saslPlaintext, sasl: KafkaSASLOptions(mechanism: .oauthBearer))
        XCTAssertEqual(oauth.requiredFeatures, ["sasl_oauthbearer"])
        XCTAssertEqual(KafkaSecurityOptions().requiredFeatures, [])
    }

    // MARK: OAUTHBEARER

    /// The provider's token is asked for as soon as the client starts, on
    /// librdkafka's background thread, without the application polling.
    func testOAuthBearerTokenProviderIsAskedAtStart() throws {
        let asked = expectation(description: "token provider called")
        asked.assertForOverFulfill = false
        var configuration = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:1", groupID: "g")
        configuration.security = KafkaSecurityOptions(securityProtocol: .saslPlaintext, sasl: KafkaSASLOptions(
            mechanism: .oauthBearer,
            oauthBearerToken: {
                asked.fulfill()
                return KafkaOAuthBearerToken(value: "eyJ.token", principal: "svc", expiresAt: Date().addingTimeInterval(600))
            }))
        let consumer = try KafkaConsumer(configuration: configuration)
        wait(for: [asked], timeout: 10)
        try consumer.close()
    }

    // MARK: Redaction

    func testSecretsNeverShowInDescriptionsOrDumps() {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: "h:9")
        configuration.security = scramOverTLS()
        var dumped = ""
        dump(configuration, to: &dumped)
        let shown = ["\(configuration)", String(reflecting: configuration), dumped,
                     KafkaPropertyRedaction.dump(configuration.librdkafkaProperties)]
        for text in shown {
            XCTAssertFalse(text.contains("s3cret-pw") || text.contains("key-pw"), text)
        }
        let redacted = effective(KafkaPropertyRedaction.redacted(configuration.librdkafkaProperties))
        XCTAssertEqual(redacted["sasl.password"], "<redacted>")
        XCTAssertEqual(redacted["ssl.key.password"], "<redacted>")
        XCTAssertEqual(redacted["sasl.username"], "alice", "only secrets are hidden")
        XCTAssertTrue(KafkaPropertyRedaction.isSensitive("sasl.oauthbearer.client.secret"))
        XCTAssertTrue(KafkaPropertyRedaction.isSensitive("ssl.keystore.password"))
        XCTAssertFalse(KafkaPropertyRedaction.isSensitive("ssl.key.location"))
    }

    /// librdkafka's own configuration dump (its `debug=conf` log at start)
    /// reaches the log without the secrets.
    func testLibrdkafkasConfigurationLogHidesTheSecrets() throws {
        let capture = LogCapture()
        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.security = scramOverTLS()
        configuration.security.tls.keyPassword = KafkaSecret(certificates.clientKeyPassword)
        configuration.additionalProperties["debug"] = "conf"
        let producer = try KafkaProducer(configuration: configuration, logger: capture.logger)
        try producer.close(timeout: .seconds(1))
        let log = capture.messages.joined(separator: "\n")
        XCTAssertTrue(log.contains("sasl.password = [redacted]"), "the configuration was logged: \(log.prefix(6_000))")
        XCTAssertFalse(log.contains("s3cret-pw") || log.contains(certificates.clientKeyPassword), log)
    }

    /// A refused property that holds a secret is named, its value not
    /// shown, even where librdkafka's own text repeats it.
    func testRefusedSecretPropertyDoesNotShowItsValue() {
        let secret = RDKafkaConfig.refusal(name: "ssl.key.password", value: "hunter2", unknown: false,
                                           librdkafkaText: "Invalid value \"hunter2\" for ssl.key.password")
        XCTAssertEqual(secret.setting, "ssl.key.password")
        XCTAssertFalse(secret.description.contains("hunter2"), secret.description)
        XCTAssertTrue(secret.message.contains("<redacted>"), secret.message)
        let plain = RDKafkaConfig.refusal(name: "linger.ms", value: "soon", unknown: false, librdkafkaText: "Invalid value")
        XCTAssertTrue(plain.message.contains("\"soon\""), "other values are shown: \(plain.message)")
    }
}
