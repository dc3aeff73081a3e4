import Foundation

extension KafkaSecurityOptions {
    /// Throws a ``KafkaError`` naming the first setting that contradicts
    /// another, is missing, or names a file that cannot be read.
    /// `passThrough` holds the names of properties given through
    /// `additionalProperties`: a `sasl.mechanism` there (GSSAPI, say)
    /// replaces ``KafkaSASLOptions/mechanism``.
    func validate(passThrough: Set<String> = []) throws {
        func invalid(_ setting: String, _ message: String) -> KafkaError {
            KafkaError(code: .invalidConfiguration, message: "\(setting): \(message)", setting: setting)
        }
        let protocolName = securityProtocol.rawValue
        if securityProtocol.usesSASL {
            if sasl.mechanism == nil, !passThrough.contains("sasl.mechanism") {
                throw invalid("security.sasl.mechanism", "security protocol \(protocolName) needs a SASL mechanism; "
                    + "set it to \(KafkaSASLMechanism.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        } else if let mechanism = sasl.mechanism {
            throw invalid("security.securityProtocol", "SASL mechanism \(mechanism.rawValue) is set but security protocol "
                + "\(protocolName) does not authenticate with SASL; use sasl_ssl (or sasl_plaintext on a trusted network)")
        }
        if securityProtocol.usesSASL, let mechanism = sasl.mechanism {
            if mechanism.usesPassword {
                guard let username = sasl.username, !username.isEmpty else {
                    throw invalid("security.sasl.username", "SASL mechanism \(mechanism.rawValue) needs a user name")
                }
                guard let password = sasl.password, !password.revealed.isEmpty else {
                    throw invalid("security.sasl.password", "SASL mechanism \(mechanism.rawValue) needs the password of '\(username)'")
                }
            } else {
                guard sasl.oauthBearerToken != nil else {
                    throw invalid("security.sasl.oauthBearerToken", "SASL mechanism OAUTHBEARER needs a token provider; "
                        + "Debian's librdkafka 2.0.2 lacks the 'http' feature, so its built-in OIDC flow is unavailable")
                }
                if sasl.password != nil {
                    throw invalid("security.sasl.password", "OAUTHBEARER authenticates with a token, not a password; remove the password")
                }
            }
        }
        if !securityProtocol.usesTLS, tls.isCustomized {
            throw invalid("security.tls", "TLS settings are given but security protocol \(protocolName) does not use TLS; "
                + "use ssl or sasl_ssl")
        }
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            let (given, missing) = tls.certificateFile == nil ? ("keyFile", "certificateFile") : ("certificateFile", "keyFile")
            throw invalid("security.tls.\(missing)", "a client certificate needs both a certificate and its key; "
                + "security.tls.\(given) is set, set security.tls.\(missing) too")
        }
        if tls.keyPassword != nil, tls.keyFile == nil {
            throw invalid("security.tls.keyPassword", "a key password is given without a key file; set security.tls.keyFile")
        }
        for (setting, path) in [("caFile", tls.caFile), ("certificateFile", tls.certificateFile), ("keyFile", tls.keyFile)] {
            guard let path else { continue }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw invalid("security.tls.\(setting)", "cannot read the file '\(path)'; check the path and its permissions")
            }
        }
    }
}
