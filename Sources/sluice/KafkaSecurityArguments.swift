import ArgumentParser
import SluiceJobs
import SluiceKafka

/// The options of every command that talks to Kafka: TLS, SASL and
/// pass-through librdkafka properties. Secrets come from files or the
/// environment; `--sasl-password` works but warns.
struct KafkaSecurityArguments: ParsableArguments {
    @Option(help: "Default: sasl_ssl with --sasl-mechanism, ssl with a TLS file, else plaintext.")
    var securityProtocol: KafkaSecurityProtocol?

    @Option(help: "SASL authentication (OAUTHBEARER takes a token you supply: Debian's librdkafka has no OIDC flow).")
    var saslMechanism: KafkaSASLMechanism?

    @Option(help: "SASL user name (PLAIN, SCRAM; the principal of a token that names none).")
    var saslUsername: String?

    @Option(help: "A file holding the SASL password. Default: $\(KafkaSecurityInput.saslPasswordVariable).")
    var saslPasswordFile: String?

    @Option(help: "The SASL password itself: every user of the machine can read it (ps); prefer --sasl-password-file.")
    var saslPassword: String?

    @Option(help: "A file holding the OAUTHBEARER token, read again at each refresh. Default: $\(KafkaSecurityInput.oauthBearerTokenVariable).")
    var saslOauthbearerTokenFile: String?

    @Option(name: .customLong("ssl-ca"), help: "CA certificates (PEM) of the brokers. Default: the system's.")
    var sslCA: String?

    @Option(help: "Client certificate (PEM), for brokers that authenticate clients by certificate.")
    var sslCert: String?

    @Option(help: "The client certificate's private key (PEM).")
    var sslKey: String?

    @Option(help: "A file holding the password of an encrypted --ssl-key. Default: $\(KafkaSecurityInput.sslKeyPasswordVariable).")
    var sslKeyPasswordFile: String?

    @Flag(name: .customLong("no-ssl-hostname-verification"), help: "Accept broker certificates that do not name the broker's host.")
    var noSSLHostnameVerification = false

    @Option(name: .customLong("kafka-property"), help: "Any other librdkafka property, as key=value (repeatable).")
    var kafkaProperties: [String] = []

    /// The resolved settings; throws naming the option or setting at fault.
    func resolve() throws -> KafkaConnectionSettings {
        var input = KafkaSecurityInput()
        input.securityProtocol = securityProtocol
        input.saslMechanism = saslMechanism
        input.saslUsername = saslUsername
        input.saslPassword = saslPassword
        input.saslPasswordFile = saslPasswordFile
        input.oauthBearerTokenFile = saslOauthbearerTokenFile
        input.sslCA = sslCA
        input.sslCertificate = sslCert
        input.sslKey = sslKey
        input.sslKeyPasswordFile = sslKeyPasswordFile
        input.verifiesHostname = !noSSLHostnameVerification
        input.properties = kafkaProperties
        return try input.resolve()
    }
}

extension KafkaSecurityProtocol: ExpressibleByArgument {}
extension KafkaSASLMechanism: ExpressibleByArgument {}
