import CRdKafka
import Foundation

extension RDKafkaCallbacks {
    /// Asks librdkafka to fetch OAUTHBEARER tokens through
    /// ``oauthBearerToken`` on its background thread (the SASL queue), so the
    /// first token arrives before any connection authenticates, whether or
    /// not the application polls yet. Call ``enableTokenRefreshInBackground(on:)``
    /// once the handle exists.
    func installTokenRefresh(on conf: OpaquePointer) {
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, rdkafkaTokenRefreshCallback)
        rd_kafka_conf_enable_sasl_queue(conf, 1)
    }

    func enableTokenRefreshInBackground(on handle: OpaquePointer) throws {
        if let failure = rd_kafka_sasl_background_callbacks_enable(handle) {
            throw KafkaError(consuming: failure, "enabling OAUTHBEARER token refresh")
        }
    }
}

/// Hands librdkafka the token the provider returns, or the provider's error
/// (librdkafka then retries and reports it through the error callback).
private let rdkafkaTokenRefreshCallback: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    rk, _, opaque in
    guard let rk, let context = RDKafkaCallbacks.from(opaque), let provider = context.oauthBearerToken else { return }
    let token: KafkaOAuthBearerToken
    do {
        token = try provider()
    } catch {
        context.logger.warning("OAUTHBEARER token provider failed: \(error)")
        _ = rd_kafka_oauthbearer_set_token_failure(rk, "token provider failed: \(error)")
        return
    }
    let extensions = token.extensions.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
    let cExtensions: [UnsafePointer<CChar>?] = extensions.map { UnsafePointer(strdup($0)) }
    defer { for pointer in cExtensions { free(UnsafeMutablePointer(mutating: pointer)) } }
    var errorText = [CChar](repeating: 0, count: 512)
    let lifetime = Int64((token.expiresAt.timeIntervalSince1970 * 1000).rounded(.down))
    let result = cExtensions.withUnsafeBufferPointer { pointers in
        var mutable = Array(pointers)
        return rd_kafka_oauthbearer_set_token(
            rk, token.value.revealed, lifetime, token.principal, &mutable, mutable.count, &errorText, errorText.count)
    }
    if result != RD_KAFKA_RESP_ERR_NO_ERROR {
        let text = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        context.logger.warning("librdkafka refused the OAUTHBEARER token for '\(token.principal)': \(text)")
        _ = rd_kafka_oauthbearer_set_token_failure(rk, text)
    }
}
