import Foundation
import Sluice
import SluiceKafka

/// An OAUTHBEARER token from a file (read again at each refresh, so a
/// sidecar can rotate it) or from an environment variable. The expiry and
/// principal come from the JWT's `exp` and `sub` claims; a token that is not
/// a JWT is taken to expire in five minutes, for the user name given.
struct OAuthBearerTokenSource {
    var file: String?
    var environment: [String: String]
    var principal: String?

    static let fallbackLifetime: TimeInterval = 300

    func provider() throws -> @Sendable () throws -> KafkaOAuthBearerToken {
        let principal = self.principal
        if let file {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw StreamingError(code: .invalidArgument, message: "--sasl-oauthbearer-token-file: cannot read '\(file)'; "
                    + "check the path and that this user may read it")
            }
            return { try Self.token(String(contentsOfFile: file, encoding: .utf8), principal: principal, now: Date()) }
        }
        guard let text = environment[KafkaSecurityInput.oauthBearerTokenVariable], !text.isEmpty else {
            throw StreamingError(code: .invalidArgument, message: "--sasl-mechanism OAUTHBEARER needs a token: give "
                + "--sasl-oauthbearer-token-file FILE or set \(KafkaSecurityInput.oauthBearerTokenVariable) (Debian's librdkafka 2.0.2 "
                + "lacks the 'http' feature, so its built-in OIDC flow is unavailable)")
        }
        return { try Self.token(text, principal: principal, now: Date()) }
    }

    /// The token in `text` (surrounding whitespace dropped).
    static func token(_ text: String, principal: String?, now: Date) throws -> KafkaOAuthBearerToken {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else {
            throw StreamingError(code: .invalidArgument, message: "the OAUTHBEARER token is empty")
        }
        let claims = jwtClaims(value)
        let expiry = (claims["exp"] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue) }
            ?? now.addingTimeInterval(fallbackLifetime)
        guard let subject = principal ?? claims["sub"] as? String, !subject.isEmpty else {
            throw StreamingError(code: .invalidArgument, message: "the OAUTHBEARER token names no principal (no 'sub' claim); "
                + "give it with --sasl-username")
        }
        return KafkaOAuthBearerToken(value: KafkaSecret(value), principal: subject, expiresAt: expiry)
    }

    /// The claims of a JWT's payload, or none when `token` is not a JWT.
    static func jwtClaims(_ token: String) -> [String: Any] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return [:] }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }
}
