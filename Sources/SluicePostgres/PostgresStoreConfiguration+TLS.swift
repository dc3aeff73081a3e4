import Foundation
import NIOSSL
import PostgresNIO
import Sluice

extension PostgresStoreConfiguration {
    /// postgres-nio's TLS setting for ``tls`` and ``rootCertificateFile``;
    /// made again for each connection from the same settings, so a
    /// reconnection is encrypted and checked as the first connection was.
    func tlsSetting() throws -> PostgresConnection.Configuration.TLS {
        guard tls != .disable else { return .disable }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable: return .disable
        case .require: configuration.certificateVerification = rootCertificateFile == nil ? .none : .noHostnameVerification
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootCertificateFile {
            guard FileManager.default.isReadableFile(atPath: rootCertificateFile) else {
                throw StreamingError(code: .invalidArgument, message: "sslrootcert: cannot read '\(rootCertificateFile)'; "
                    + "check the path and that this user may read it")
            }
            configuration.trustRoots = .file(rootCertificateFile)
        }
        do {
            return .require(try NIOSSLContext(configuration: configuration))
        } catch {
            throw StreamingError(code: .invalidArgument, message: "sslrootcert: '\(rootCertificateFile ?? "system trust roots")' "
                + "holds no usable PEM certificate (\(error)); give the CA certificate that signed the server's")
        }
    }
}

/// Says what went wrong when a failure is about TLS, with the fix; nil for
/// any other failure. TLS failures are not retried: the next attempt would
/// meet the same certificate.
func tlsFailureMessage(_ error: any Error) -> String? {
    if let error = error as? PSQLError {
        if error.code == .sslUnsupported {
            return "the server does not offer TLS, which the sink's sslmode requires; turn on ssl in its postgresql.conf, "
                + "or use sslmode=disable on a trusted network"
        }
        if error.code == .failedToAddSSLHandler {
            return "TLS could not be set up for the connection (\(error.underlying.map { "\($0)" } ?? "no cause given"))"
        }
        return error.underlying.flatMap { tlsFailureMessage($0) }
    }
    if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
        return "the server's certificate does not name the host connected to (\(error)), which sslmode=verify-full checks; "
            + "connect with a host name the certificate names, or use sslmode=verify-ca"
    }
    if let error = error as? NIOSSLError {
        return "the TLS handshake failed (\(error)); check that sslrootcert holds the CA that signed the server's certificate"
    }
    return nil
}
