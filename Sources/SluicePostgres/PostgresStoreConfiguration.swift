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

    /// Parses `postgres://user:password@host:port/database` (or
    /// `postgresql://…`); user, password, port and database may be left out.
    /// `?sslmode=disable` is accepted; TLS is not supported yet.
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
            case ("sslmode", "disable"): continue
            case ("sslmode", let mode):
                throw invalid("asks for sslmode=\(mode): the PostgreSQL sink does not support TLS yet; use sslmode=disable on a trusted network")
            case (let name, _):
                throw invalid("has the parameter '\(name)', which the sink does not understand (only sslmode=disable)")
            }
        }
    }

    /// The connection string without the password, for logs.
    public var displayURL: String {
        let user = password == nil ? username : "\(username):***"
        return "postgres://\(user)@\(host):\(port)/\(database ?? username)"
    }

    static func masked(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    var connection: PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database ?? username, tls: .disable)
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
