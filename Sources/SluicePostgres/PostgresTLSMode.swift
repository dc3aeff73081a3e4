/// Whether and how the connection to PostgreSQL is encrypted, as libpq's
/// `sslmode` says it.
public enum PostgresTLSMode: String, Sendable, CaseIterable {
    /// No TLS: only on a trusted network (loopback, a private link).
    case disable
    /// TLS, the server's certificate not checked (encryption without
    /// authentication of the server); as in libpq, with a root certificate
    /// file given it is checked as by `verifyCA`.
    case require
    /// TLS, the server's certificate signed by a trusted CA; the host name is not checked.
    case verifyCA = "verify-ca"
    /// TLS, the certificate signed by a trusted CA and naming the host connected to.
    case verifyFull = "verify-full"
}
