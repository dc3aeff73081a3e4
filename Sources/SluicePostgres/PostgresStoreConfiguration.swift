import Foundation
import Logging
import PostgresNIO
import Sluice

/// Where the PostgreSQL store connects and how hard it tries after the
/// connection drops.
public struct PostgresStoreConfiguration: Sendable {
    /// Default: 127.0.0.1.
    public var host: String = "127.0.0.1"
    /// Default: 5432.
    public var port: Int = 5432
    /// Default: `postgres`.
    public var username: String = "postgres"
    /// Default: none (trust or peer authentication).
    public var password: String?
    /// Default: the user name.
    public var database: String?
    /// Whether and how the connection is encrypted (the URL's `sslmode`).
    /// Default: `.disable`.
    public var tls: PostgresTLSMode = .disable
    /// CA certificates (PEM) the server's certificate must be signed by, for
    /// `.verifyCA` and `.verifyFull` (the URL's `sslrootcert`). Default: `nil`
    /// (the system's trust roots).
    public var rootCertificateFile: String?
    /// How long one connection attempt may take. Default: 5 s.
    public var connectTimeout: Duration = .seconds(5)
    /// Attempts of one commit (or recovery) before it throws, when the
    /// connection drops or the server restarts. Default: 10.
    public var attempts: Int = 10
    /// Wait before the second attempt; doubled for each further one up to
    /// ``maximumBackoff``. Default: 100 ms.
    public var initialBackoff: Duration = .milliseconds(100)
    /// Default: 4 s (10 attempts span about 20 s).
    public var maximumBackoff: Duration = .seconds(4)
    /// Where retries and reconnections are logged. Default: `sluice.postgres` at warning level.
    public var logger: Logger = {
        var logger = Logger(label: "sluice.postgres")
        logger.logLevel = .warning
        return logger
    }()

    public init(host: String = "127.0.0.1", port: Int = 5432, username: String = "postgres", password: String? = nil, database: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=MODE&sslrootcert=FILE`
    /// (or `postgresql://…`); user, password, port, database and the
    /// parameters may be left out. `sslmode` is `disable` (the default),
    /// `require`, `verify-ca` or `verify-full`, as in libpq.
    public init(url text: String) throws {
        func invalid(_ why: String) -> StreamingError {
            StreamingError(
                code: .invalidArgument,
                message: "PostgreSQL connection string '\(Self.masked(text))' \(why); write postgres://user:password@host:port/database")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "postgres" || scheme == "postgresql"
        else { throw invalid("does not start with postgres://") }
        guard let host = components.host, !host.isEmpty else { throw invalid("names no host") }
        self.host = host
        if let port = components.port {
            guard (1...65_535).contains(port) else { throw invalid("has port \(port), out of range") }
            self.port = port
        }
        if let user = components.user, !user.isEmpty { username = user }
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if path.contains("/") { throw invalid("has a path with more than the database name") }
        database = path.isEmpty ? nil : path
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", let mode):
                guard let parsed = PostgresTLSMode(rawValue: mode) else {
                    throw invalid("asks for sslmode=\(mode), which the sink does not support; use "
                        + PostgresTLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tls = parsed
            case ("sslrootcert", let file) where !file.isEmpty:
                rootCertificateFile = file
            case (let name, _):
                throw invalid("has the parameter '\(name)', which the sink does not understand (only sslmode and sslrootcert)")
            }
        }
        if rootCertificateFile != nil, tls == .disable {
            throw invalid("gives sslrootcert with sslmode=disable; add sslmode=verify-full (or verify-ca) to check the server")
        }
    }

    /// The connection string without the password, for logs.
    public var displayURL: String {
        let user = password == nil ? username : "\(username):***"
        var parameters: [String] = []
        if tls != .disable { parameters.append("sslmode=\(tls.rawValue)") }
        if let rootCertificateFile { parameters.append("sslrootcert=\(rootCertificateFile)") }
        return "postgres://\(user)@\(host):\(port)/\(database ?? username)" + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
    }

    static func masked(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    /// postgres-nio's settings for one connection.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database ?? username, tls: try tlsSetting())
        configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000
            + connectTimeout.components.attoseconds / 1_000_000_000)
        return configuration
    }

    /// The wait before attempt `attempt` (2, 3, …).
    func backoff(before attempt: Int) -> Duration {
        var wait = initialBackoff
        for _ in 2..<max(2, attempt) {
            wait = min(wait * 2, maximumBackoff)
        }
        return min(wait, maximumBackoff)
    }
}

extension PostgresStoreConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The connection string without the password (``displayURL``).
    public var description: String { displayURL }
    public var debugDescription: String { displayURL }
}
