import Foundation
import Sluice
@testable import SluiceJobs
import SluiceKafka
import XCTest

/// The command line's Kafka settings become the typed security options and
/// pass-through properties, with secrets from files or the environment.
final class KafkaSecurityInputTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory("sluice-kafka-input") }

    private func file(_ name: String, _ text: String = "pem") throws -> String { try directory.file(name, text) }

    func testNothingGivenIsPlaintext() throws {
        let settings = try KafkaSecurityInput().resolve(environment: [:])
        XCTAssertEqual(settings.security.securityProtocol, .plaintext)
        XCTAssertTrue(settings.additionalProperties.isEmpty)
        XCTAssertTrue(settings.warnings.isEmpty)
    }

    /// A managed cluster: SCRAM over TLS, the password from the environment,
    /// a client certificate whose key password comes from a file.
    func testEveryOptionReachesTheSecurityOptions() throws {
        var input = KafkaSecurityInput()
        input.saslMechanism = .scramSHA256
        input.saslUsername = "alice"
        input.sslCA = try file("ca.pem")
        input.sslCertificate = try file("client.pem")
        input.sslKey = try file("client.key")
        input.sslKeyPasswordFile = try file("key-password", "key-secret\n")
        input.verifiesHostname = false
        let settings = try input.resolve(environment: [KafkaSecurityInput.saslPasswordVariable: "env-secret"])
        let security = settings.security
        XCTAssertEqual(security.securityProtocol, .saslSSL, "a SASL mechanism implies sasl_ssl")
        XCTAssertEqual(security.sasl.mechanism, .scramSHA256)
        XCTAssertEqual(security.sasl.username, "alice")
        XCTAssertEqual(security.sasl.password?.revealed, "env-secret")
        XCTAssertEqual(security.tls.caFile, input.sslCA)
        XCTAssertEqual(security.tls.certificateFile, input.sslCertificate)
        XCTAssertEqual(security.tls.keyFile, input.sslKey)
        XCTAssertEqual(security.tls.keyPassword?.revealed, "key-secret")
        XCTAssertFalse(security.tls.verifiesHostname)
        XCTAssertTrue(settings.warnings.isEmpty)

        var consumer = KafkaConsumerConfiguration(bootstrapServers: "h:9")
        settings.apply(to: &consumer)
        XCTAssertEqual(consumer.security.sasl.password?.revealed, "env-secret")
    }

    func testTLSFilesAloneImplySSLAndAnExplicitProtocolWins() throws {
        var input = KafkaSecurityInput()
        input.sslCA = try file("ca.pem")
        XCTAssertEqual(try input.resolve(environment: [:]).security.securityProtocol, .ssl)
        input.securityProtocol = .saslSSL
        input.saslMechanism = .plain
        input.saslUsername = "u"
        input.saslPasswordFile = try file("pw", "from-file")
        let settings = try input.resolve(environment: [KafkaSecurityInput.saslPasswordVariable: "env"])
        XCTAssertEqual(settings.security.securityProtocol, .saslSSL)
        XCTAssertEqual(settings.security.sasl.password?.revealed, "from-file", "the file beats the environment")
    }

    /// PLAIN without TLS works but warns: the password crosses the network in clear.
    func testPlainWithoutTLSWarns() throws {
        var input = KafkaSecurityInput()
        input.securityProtocol = .saslPlaintext
        input.saslMechanism = .plain
        input.saslUsername = "u"
        let plain = try input.resolve(environment: [KafkaSecurityInput.saslPasswordVariable: "p"])
        XCTAssertEqual(plain.warnings.count, 1)
        XCTAssertTrue(plain.warnings[0].contains("unencrypted"), plain.warnings[0])
        input.saslMechanism = .scramSHA256
        XCTAssertEqual(try input.resolve(environment: [KafkaSecurityInput.saslPasswordVariable: "p"]).warnings, [],
                       "SCRAM never sends the password itself")
    }

    func testPasswordArgumentWorksButWarnsOnce() throws {
        var input = KafkaSecurityInput()
        input.saslMechanism = .plain
        input.saslUsername = "u"
        input.saslPassword = "hunter2"
        let settings = try input.resolve(environment: [:])
        XCTAssertEqual(settings.security.sasl.password?.revealed, "hunter2")
        XCTAssertEqual(settings.warnings.count, 1)
        XCTAssertTrue(settings.warnings[0].contains("--sasl-password-file"), settings.warnings[0])
        XCTAssertFalse(settings.warnings[0].contains("hunter2"))
    }

    func testKafkaPropertiesArePassedThroughAndChecked() throws {
        var input = KafkaSecurityInput()
        input.properties = ["socket.keepalive.enable=true", "client.rack=eu-1a=b"]
        XCTAssertEqual(try input.resolve(environment: [:]).additionalProperties,
                       ["socket.keepalive.enable": "true", "client.rack": "eu-1a=b"])

        input.properties = ["no-equals-sign"]
        XCTAssertThrowsError(try input.resolve(environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("--kafka-property 'no-equals-sign' is not key=value"), "\(error)")
        }
        input.properties = ["socket.keepalive.enabel=true"]
        XCTAssertThrowsError(try input.resolve(environment: [:])) { error in
            XCTAssertEqual((error as? KafkaError)?.setting, "socket.keepalive.enabel", "refused before any client starts")
        }
        input.properties = ["sasl.password=visible"]
        let warned = try input.resolve(environment: [:])
        XCTAssertTrue(warned.warnings.contains { $0.contains("--kafka-property sasl.password=…") && !$0.contains("visible") }, "\(warned.warnings)")
    }

    /// Contradictions fail when the command starts, naming the setting.
    func testIncompleteSettingsFailAtResolve() {
        var input = KafkaSecurityInput()
        input.saslMechanism = .scramSHA512
        input.saslUsername = "u"
        XCTAssertThrowsError(try input.resolve(environment: [:])) { error in
            XCTAssertEqual((error as? KafkaError)?.setting, "security.sasl.password")
            XCTAssertTrue("\(error)".contains("(command line: --sasl-password-file FILE or $SLUICE_KAFKA_SASL_PASSWORD)"), "\(error)")
        }
        var oauth = KafkaSecurityInput()
        oauth.saslMechanism = .oauthBearer
        XCTAssertThrowsError(try oauth.resolve(environment: [:])) { error in
            XCTAssertTrue("\(error)".contains(KafkaSecurityInput.oauthBearerTokenVariable) && "\(error)".contains("'http' feature"), "\(error)")
        }
    }

    // MARK: OAUTHBEARER tokens

    private func jwt(_ claims: [String: Any]) throws -> String {
        let payload = try JSONSerialization.data(withJSONObject: claims).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "eyJhbGciOiJub25lIn0.\(payload).sig"
    }

    func testJWTGivesExpiryAndPrincipal() throws {
        let token = try OAuthBearerTokenSource.token(try jwt(["sub": "svc-7", "exp": 2_000_000_000]) + "\n", principal: nil, now: Date())
        XCTAssertEqual(token.principal, "svc-7")
        XCTAssertEqual(token.expiresAt, Date(timeIntervalSince1970: 2_000_000_000))
        XCTAssertFalse(token.value.revealed.hasSuffix("\n"))
    }

    func testOpaqueTokenNeedsAPrincipalAndExpiresSoon() throws {
        let now = Date(timeIntervalSince1970: 1_000)
        let token = try OAuthBearerTokenSource.token("opaque", principal: "alice", now: now)
        XCTAssertEqual(token.principal, "alice")
        XCTAssertEqual(token.expiresAt, now.addingTimeInterval(OAuthBearerTokenSource.fallbackLifetime))
        XCTAssertThrowsError(try OAuthBearerTokenSource.token("opaque", principal: nil, now: now)) { error in
            XCTAssertTrue("\(error)".contains("--sasl-username"), "\(error)")
        }
    }

    /// The token file is read at every refresh, so a rotated token is used.
    func testTokenFileIsReadAgainAtEachRefresh() throws {
        let path = try file("token", try jwt(["sub": "a", "exp": 2_000_000_000]))
        var input = KafkaSecurityInput()
        input.saslMechanism = .oauthBearer
        input.oauthBearerTokenFile = path
        let provider = try XCTUnwrap(try input.resolve(environment: [:]).security.sasl.oauthBearerToken)
        XCTAssertEqual(try provider().principal, "a")
        try jwt(["sub": "b", "exp": 2_000_000_000]).write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try provider().principal, "b")
    }
}
