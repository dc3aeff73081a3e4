import Foundation
import Sluice
import SluiceKafka

/// The Kafka connection settings every command that talks to Kafka takes,
/// as the command line gives them; ``resolve(environment:)`` turns them
/// into a ``KafkaConnectionSettings``.
public struct KafkaSecurityInput: Sendable {
    /// Default: `nil`: `sasl_ssl` when a SASL mechanism is given, else `ssl`
    /// when a TLS file is given, else `plaintext`.
    public var securityProtocol: KafkaSecurityProtocol?
    /// Default: `nil`.
    public var saslMechanism: KafkaSASLMechanism?
    /// Default: `nil`.
    public var saslUsername: String?
    /// The SASL password as an argument (warns). Default: `nil`.
    public var saslPassword: String?
    /// Default: `nil` (then `SLUICE_KAFKA_SASL_PASSWORD`).
    public var saslPasswordFile: String?
    /// A file holding the OAUTHBEARER token, read again at each refresh.
    /// Default: `nil` (then `SLUICE_KAFKA_OAUTHBEARER_TOKEN`).
    public var oauthBearerTokenFile: String?
    /// Default: `nil`.
    public var sslCA: String?
    /// Default: `nil`.
    public var sslCertificate: String?
    /// Default: `nil`.
    public var sslKey: String?
    /// Default: `nil` (then `SLUICE_KAFKA_SSL_KEY_PASSWORD`).
    public var sslKeyPasswordFile: String?
    /// Default: `true`.
    public var verifiesHostname: Bool = true
    /// `key=value` librdkafka properties (`--kafka-property`). Default: empty.
    public var properties: [String] = []

    public static let saslPasswordVariable = "SLUICE_KAFKA_SASL_PASSWORD"
    public static let sslKeyPasswordVariable = "SLUICE_KAFKA_SSL_KEY_PASSWORD"
    public static let oauthBearerTokenVariable = "SLUICE_KAFKA_OAUTHBEARER_TOKEN"

    public init() {}

    /// The settings, validated: properties are `key=value` with names
    /// librdkafka knows, secrets are read from their files or the
    /// environment, and the security options agree with each other.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KafkaConnectionSettings {
        var warnings: [String] = []
        var security = KafkaSecurityOptions()
        let tlsGiven = sslCA != nil || sslCertificate != nil || sslKey != nil || sslKeyPasswordFile != nil || !verifiesHostname
        security.securityProtocol = securityProtocol ?? (saslMechanism != nil ? .saslSSL : tlsGiven ? .ssl : .plaintext)
        security.sasl.mechanism = saslMechanism
        security.sasl.username = saslUsername
        let password = try SecretInput(
            fileOption: "--sasl-password-file", environmentVariable: Self.saslPasswordVariable, file: saslPasswordFile,
            argument: saslPassword.map { ($0, "--sasl-password") }).resolve(environment: environment)
        if let warning = password.warning { warnings.append(warning) }
        if saslMechanism?.usesPassword ?? false { security.sasl.password = password.value.map { KafkaSecret($0) } }
        if saslMechanism == .oauthBearer {
            security.sasl.oauthBearerToken = try OAuthBearerTokenSource(
                file: oauthBearerTokenFile, environment: environment, principal: saslUsername).provider()
        }
        security.tls = KafkaTLSOptions(caFile: sslCA, certificateFile: sslCertificate, keyFile: sslKey, verifiesHostname: verifiesHostname)
        if sslKey != nil || sslKeyPasswordFile != nil {
            let keyPassword = try SecretInput(fileOption: "--ssl-key-password-file", environmentVariable: Self.sslKeyPasswordVariable,
                                              file: sslKeyPasswordFile).resolve(environment: environment)
            security.tls.keyPassword = keyPassword.value.map { KafkaSecret($0) }
        }
        var additional: [String: String] = [:]
        for property in properties {
            guard let equals = property.firstIndex(of: "="), equals != property.startIndex else {
                throw StreamingError(code: .invalidArgument, message: "--kafka-property '\(property)' is not key=value, "
                    + "e.g. --kafka-property socket.keepalive.enable=true")
            }
            let name = String(property[..<equals])
            additional[name] = String(property[property.index(after: equals)...])
            if KafkaPropertyRedaction.isSensitive(name) {
                warnings.append("the secret given in --kafka-property \(name)=… can be read by every user of this machine (ps, /proc); "
                    + "use the typed options with a password file or environment variable instead")
            }
        }
        if security.securityProtocol == .saslPlaintext, saslMechanism == .plain {
            warnings.append("SASL PLAIN over sasl_plaintext sends the password unencrypted; use --security-protocol sasl_ssl "
                + "unless the network to the brokers is trusted")
        }
        let settings = KafkaConnectionSettings(security: security, additionalProperties: additional, warnings: warnings)
        do {
            try settings.validate()
        } catch var error as KafkaError {
            if let setting = error.setting, let options = Self.options(for: setting) { error.message += " (command line: \(options))" }
            throw error
        }
        return settings
    }

    /// The command-line options that give a typed setting, for error messages.
    static func options(for setting: String) -> String? {
        switch setting {
        case "security.securityProtocol": return "--security-protocol"
        case "security.sasl.mechanism": return "--sasl-mechanism"
        case "security.sasl.username": return "--sasl-username"
        case "security.sasl.password": return "--sasl-password-file FILE or $\(saslPasswordVariable)"
        case "security.sasl.oauthBearerToken": return "--sasl-oauthbearer-token-file FILE or $\(oauthBearerTokenVariable)"
        case "security.tls": return "--ssl-ca, --ssl-cert, --ssl-key, --no-ssl-hostname-verification"
        case "security.tls.caFile": return "--ssl-ca"
        case "security.tls.certificateFile": return "--ssl-cert"
        case "security.tls.keyFile": return "--ssl-key"
        case "security.tls.keyPassword": return "--ssl-key-password-file FILE or $\(sslKeyPasswordVariable)"
        default: return nil
        }
    }
}
