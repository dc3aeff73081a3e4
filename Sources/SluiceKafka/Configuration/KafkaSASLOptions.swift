import Foundation

/// SASL authentication of a Kafka client.
public struct KafkaSASLOptions: Sendable {
    /// The mechanism; required with a SASL security protocol. Default: `nil`.
    public var mechanism: KafkaSASLMechanism?
    /// The user name, for PLAIN and SCRAM. Default: `nil`.
    public var username: String?
    /// The password, for PLAIN and SCRAM. Default: `nil`.
    public var password: KafkaSecret?
    /// Supplies the token for OAUTHBEARER, called when the client starts and
    /// again before the token expires (librdkafka asks at 80 % of its
    /// lifetime); throwing makes the client retry and report the error.
    /// Debian's librdkafka 2.0.2 is built without the `http` feature, so
    /// librdkafka's own OIDC token flow (`sasl.oauthbearer.method=oidc`) is
    /// unavailable: fetch the token yourself and return it here. Default: `nil`.
    public var oauthBearerToken: (@Sendable () throws -> KafkaOAuthBearerToken)?

    public init(mechanism: KafkaSASLMechanism? = nil, username: String? = nil, password: KafkaSecret? = nil,
                oauthBearerToken: (@Sendable () throws -> KafkaOAuthBearerToken)? = nil) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
        self.oauthBearerToken = oauthBearerToken
    }
}

/// librdkafka's `sasl.mechanism`.
public enum KafkaSASLMechanism: String, Sendable, CaseIterable {
    case plain = "PLAIN"
    case scramSHA256 = "SCRAM-SHA-256"
    case scramSHA512 = "SCRAM-SHA-512"
    case oauthBearer = "OAUTHBEARER"

    /// Whether the mechanism authenticates with a user name and password.
    public var usesPassword: Bool { self != .oauthBearer }

    /// The entry of librdkafka's `builtin.features` the mechanism needs.
    var requiredFeature: String {
        switch self {
        case .plain: return "sasl_plain"
        case .scramSHA256, .scramSHA512: return "sasl_scram"
        case .oauthBearer: return "sasl_oauthbearer"
        }
    }
}

/// An OAUTHBEARER token, as the broker's token validator expects it.
public struct KafkaOAuthBearerToken: Sendable {
    /// The token (usually a JWT). Required.
    public var value: KafkaSecret
    /// The principal the token stands for. Required.
    public var principal: String
    /// When the token expires; librdkafka asks for a new one before. Required.
    public var expiresAt: Date
    /// SASL extensions sent with the token (`key → value`). Default: empty.
    public var extensions: [String: String] = [:]

    public init(value: KafkaSecret, principal: String, expiresAt: Date, extensions: [String: String] = [:]) {
        self.value = value
        self.principal = principal
        self.expiresAt = expiresAt
        self.extensions = extensions
    }
}
