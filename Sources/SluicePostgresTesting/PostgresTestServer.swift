import Foundation
import SluiceTesting
import XCTest

/// A throwaway PostgreSQL server for tests: `initdb` into a temporary
/// directory, `pg_ctl start` listening on 127.0.0.1 and a free port with
/// trust authentication for the superuser `sluice`, the socket directory
/// inside the temporary directory.
///
/// PostgreSQL refuses to run as root: as root the server runs as the
/// `postgres` user (`runuser -u postgres --`), on a directory owned by it;
/// as anyone else it runs as that user. One server is shared by the whole
/// test process (``shared()``) and stopped when the process exits; each
/// test takes a database of its own (``makeDatabase()``).
///
/// With `openssl` on PATH the server also speaks TLS (`ssl = on`) with a
/// certificate for `localhost` from a throwaway CA (``certificates``);
/// clients that do not ask for TLS connect as before.
public final class PostgresTestServer: @unchecked Sendable {
    /// The superuser initdb creates; trusted on loopback, no password.
    public static let user = "sluice"

    public private(set) var port: Int
    /// The temporary directory: `data/`, `socket/`, `server.log`.
    public let directory: URL
    /// The CA and server certificate the server's TLS uses; nil when
    /// `openssl` is missing or failed (``tlsUnavailableReason`` says why).
    public private(set) var certificates: TestCertificates?
    /// Why the server has no TLS, when it has none.
    public private(set) var tlsUnavailableReason: String?
    private let binDirectory: URL
    private let serverUser: ServerUser
    private let lock = NSLock()
    private var databases = 0

    private var dataDirectory: URL { directory.appendingPathComponent("data") }
    private var logFile: URL { directory.appendingPathComponent("server.log") }

    private enum ServerUser {
        case current
        case postgres(uid: uid_t, gid: gid_t, runuser: String)
    }

    // MARK: The shared server

    private nonisolated(unsafe) static var sharedServer: Result<PostgresTestServer, any Error>?
    private static let sharedLock = NSLock()

    /// The process's server, started on first use and stopped at exit.
    /// Throws `XCTSkip` when PostgreSQL cannot run here (no binaries; root
    /// without a `postgres` user), and the start failure otherwise.
    public static func shared() throws -> PostgresTestServer {
        try sharedLock.withLock {
            if let sharedServer { return try sharedServer.get() }
            let result = Result { try PostgresTestServer() }
            sharedServer = result
            if case .success = result {
                atexit { PostgresTestServer.stopSharedServer() }
            }
            return try result.get()
        }
    }

    private static func stopSharedServer() {
        guard case .success(let server)? = sharedServer else { return }
        try? server.stop()
        try? FileManager.default.removeItem(at: server.directory)
    }

    // MARK: Life cycle

    /// Runs initdb and starts a new server; throws `XCTSkip` when that is impossible here.
    ///
    /// - Parameters:
    ///   - tls: whether the server offers TLS (when `openssl` can make its certificate).
    ///   - authenticationRules: `pg_hba.conf` lines placed before the default
    ///     trust rules, e.g. `host all alice 127.0.0.1/32 scram-sha-256`.
    public init(tls: Bool = true, authenticationRules: [String] = []) throws {
        binDirectory = try Self.findBinaries()
        if getuid() == 0 {
            guard let entry = getpwnam("postgres") else {
                throw XCTSkip("PostgreSQL refuses to run as root and there is no 'postgres' user to run it as; "
                    + "install Debian's postgresql package (it creates the user) or run the tests as a non-root user")
            }
            guard let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw XCTSkip("PostgreSQL refuses to run as root and runuser (util-linux) is missing to run it as 'postgres'")
            }
            serverUser = .postgres(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, runuser: runuser)
        } else {
            serverUser = .current
        }
        Self.removeAbandonedServers()
        // /tmp rather than $TMPDIR: the postgres user must be able to reach it.
        let base = getuid() == 0 ? URL(fileURLWithPath: "/tmp") : FileManager.default.temporaryDirectory
        directory = base.appendingPathComponent("sluice-pg-\(getpid())-\(UUID().uuidString.prefix(8))")
        port = 0
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("socket"), withIntermediateDirectories: true)
        try handOver(directory)
        try handOver(directory.appendingPathComponent("socket"))
        do {
            try runServerTool("initdb", ["-D", dataDirectory.path, "-U", Self.user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            try appendSettings([
                "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = '\(directory.appendingPathComponent("socket").path)'",
                // A test server: durability against power loss is not the point.
                "fsync = off",
                "full_page_writes = off",
                "max_connections = 60",
            ])
            if tls { try setUpTLS() } else { tlsUnavailableReason = "this server was started without TLS" }
            if !authenticationRules.isEmpty { try prependAuthenticationRules(authenticationRules) }
            try startOnFreePort()
        } catch {
            try? stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Makes the certificates and turns TLS on; without `openssl` the
    /// server runs without TLS and the TLS tests skip.
    private func setUpTLS() throws {
        guard TestCertificates.opensslAvailable else {
            tlsUnavailableReason = "openssl is not on PATH to make the test certificates"
            return
        }
        let tlsDirectory = directory.appendingPathComponent("tls")
        let made: TestCertificates
        do {
            made = try TestCertificates(in: tlsDirectory)
        } catch {
            tlsUnavailableReason = "making the test certificates failed: \(error)"
            return
        }
        // PostgreSQL refuses a key that others may read; the server's user owns both files.
        try FileManager.default.setAttributes([.posixPermissions: NSNumber(value: 0o600)], ofItemAtPath: made.serverKey)
        for path in [tlsDirectory.path, made.serverCertificate, made.serverKey] { try handOver(URL(fileURLWithPath: path)) }
        try appendSettings(["ssl = on", "ssl_cert_file = '\(made.serverCertificate)'", "ssl_key_file = '\(made.serverKey)'"])
        certificates = made
    }

    /// Starts on a free port, trying again on another when one was taken meanwhile.
    private func startOnFreePort() throws {
        var lastError: (any Error)?
        for _ in 0..<3 {
            port = try Self.freePort()
            try appendSettings(["port = \(port)"])  // the last setting wins
            do {
                try start()
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? TestServerError("the server did not start")
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    public func start() throws {
        do {
            try runServerTool("pg_ctl", ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "start"])
        } catch {
            throw TestServerError("\(error)\nserver log:\n\(log.split(separator: "\n").suffix(15).joined(separator: "\n"))")
        }
    }

    /// Stops the server (fast: open transactions are rolled back, clients disconnected).
    public func stop() throws {
        try runServerTool("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Stops and starts the server, as an operator's `pg_ctl restart` does.
    public func restart() throws {
        try runServerTool("pg_ctl", ["-D", dataDirectory.path, "-l", logFile.path, "-m", "fast", "-w", "-t", "60", "restart"])
    }

    /// Whether the server is running (`pg_ctl status`).
    public var isRunning: Bool {
        (try? runServerTool("pg_ctl", ["-D", dataDirectory.path, "status"])) != nil
    }

    /// Starts the server if a test left it stopped.
    public func ensureRunning() throws {
        if !isRunning { try start() }
    }

    // MARK: Databases

    /// The connection string of `database`.
    public func url(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)"
    }

    /// Creates an empty database for one test and returns its connection string.
    public func makeDatabase(_ prefix: String = "test") throws -> String {
        let name = lock.withLock {
            databases += 1
            return "\(prefix)_\(databases)_\(UUID().uuidString.prefix(8).lowercased())"
        }
        try run(binDirectory.appendingPathComponent("createdb").path,
                ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, name], asServerUser: false)
        return url(database: name)
    }

    /// The server's log, for failure messages.
    public var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? "(no server log)"
    }

    // MARK: Running the tools

    @discardableResult
    private func runServerTool(_ tool: String, _ arguments: [String]) throws -> String {
        try run(binDirectory.appendingPathComponent(tool).path, arguments, asServerUser: true)
    }

    /// Runs a PostgreSQL program (as the server's user when asked), its
    /// output in a file, and waits for it (bounded).
    ///
    /// posix_spawn rather than Foundation's Process: Process learns that its
    /// child exited when a socket the child inherited closes, and the server
    /// that `pg_ctl start` leaves running inherits it too, so Process would
    /// wait for the server to stop.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String], asServerUser: Bool, timeout: Duration = .seconds(90)) throws -> String {
        var argv = [executable] + arguments
        if case .postgres(_, _, let runuser) = serverUser, asServerUser {
            argv = [runuser, "-u", "postgres", "--"] + argv
        }
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pg-output-\(UUID().uuidString)").path
        defer { unlink(outputPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw TestServerError("cannot start \(argv[0]): error \(spawned)") }

        var status: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard ContinuousClock.now < deadline else {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw TestServerError("\(argv.joined(separator: " ")) did not finish within \(timeout)")
            }
            usleep(10_000)  // a child process offers no event to wait on with a deadline
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7F == 0
        let code = (status >> 8) & 0xFF
        guard exited && code == 0 else {
            throw TestServerError("\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.joined(separator: " ")) "
                + (exited ? "exited with \(code)" : "was killed by signal \(status & 0x7F)") + ":\n\(text)")
        }
        return text
    }

    /// Gives a directory to the server's user.
    private func handOver(_ url: URL) throws {
        guard case .postgres(let uid, let gid, _) = serverUser else { return }
        try FileManager.default.setAttributes(
            [.ownerAccountID: NSNumber(value: uid), .groupOwnerAccountID: NSNumber(value: gid), .posixPermissions: NSNumber(value: 0o700)],
            ofItemAtPath: url.path)
    }

    private func prependAuthenticationRules(_ rules: [String]) throws {
        let hba = dataDirectory.appendingPathComponent("pg_hba.conf")
        let existing = try String(contentsOf: hba, encoding: .utf8)
        try Data((rules.joined(separator: "\n") + "\n" + existing).utf8).write(to: hba)
    }

    private func appendSettings(_ lines: [String]) throws {
        let conf = dataDirectory.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + lines.joined(separator: "\n") + "\n").utf8))
    }

    // MARK: Finding things

    /// `SLUICE_PG_BIN`, else the newest /usr/lib/postgresql/N/bin, else `pg_config --bindir`'s neighbours on PATH.
    private static func findBinaries() throws -> URL {
        let fileManager = FileManager.default
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["SLUICE_PG_BIN"] { candidates.append(configured) }
        let versions = ((try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for candidate in candidates {
            let bin = URL(fileURLWithPath: candidate)
            if ["initdb", "pg_ctl", "createdb"].allSatisfy({ fileManager.isExecutableFile(atPath: bin.appendingPathComponent($0).path) }) {
                return bin
            }
        }
        throw XCTSkip("PostgreSQL server binaries (initdb, pg_ctl) not found in \(candidates.prefix(3)); "
            + "install Debian's postgresql package (`make test` does) or set SLUICE_PG_BIN")
    }

    /// A port nobody listens on at the moment.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestServerError("bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw TestServerError("getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Stops and deletes servers left by test processes that were killed
    /// before their exit handler ran (their directory names carry the pid).
    private static func removeAbandonedServers() {
        let fileManager = FileManager.default
        for base in Set(["/tmp", fileManager.temporaryDirectory.path]) {
            for name in (try? fileManager.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix("sluice-pg-") {
                let parts = name.split(separator: "-")
                guard parts.count >= 4, let pid = Int32(parts[2]), pid != getpid() else { continue }
                guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
                let directory = URL(fileURLWithPath: base).appendingPathComponent(name)
                let pidFile = directory.appendingPathComponent("data/postmaster.pid")
                if let text = try? String(contentsOf: pidFile, encoding: .utf8),
                   let first = text.split(separator: "\n").first, let postmaster = Int32(first),
                   let command = try? String(contentsOfFile: "/proc/\(postmaster)/comm", encoding: .utf8),
                   command.hasPrefix("postgres") {
                    kill(postmaster, SIGQUIT)  // that abandoned server's immediate shutdown
                }
                try? fileManager.removeItem(at: directory)
            }
        }
    }
}

/// Why the test server could not do what was asked.
public struct TestServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
