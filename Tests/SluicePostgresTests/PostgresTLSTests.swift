import Foundation
import PostgresNIO
import Sluice
import SluiceJobs
import SluiceKafka
@testable import SluicePostgres
import SluicePostgresTesting
import SluiceTesting
import XCTest

/// The sink's `sslmode` and `sslrootcert` against the test server, which
/// speaks TLS with a certificate for `localhost` from a throwaway CA, and
/// against a second server without TLS and with password logins.
final class PostgresTLSTests: XCTestCase {
    private let table = ResultTable(
        name: "totals", columns: [ResultColumn("word", .text), ResultColumn("count", .integer)], mode: .upsert(key: ["word"]))

    /// A new database's URL on the shared server, reached as `host`, with `parameters`;
    /// `parameters` may name the server's CA as `CA` and an unrelated one as `OTHER`.
    private func tlsDatabase(host: String = "localhost", _ parameters: String) throws -> String {
        let server = try runningPostgresServer()
        guard let certificates = server.certificates else { throw XCTSkip(server.tlsUnavailableReason ?? "no TLS") }
        let url = try server.makeDatabase("tls").replacingOccurrences(of: "@127.0.0.1:", with: "@\(host):")
        let query = parameters.replacingOccurrences(of: "OTHER", with: certificates.otherCACertificate)
            .replacingOccurrences(of: "=CA", with: "=\(certificates.caCertificate)")
        return url + "?" + query
    }

    /// Whether the store's current connection is encrypted, and its backend pid.
    private func connectionState(_ store: PostgresStore) async throws -> (ssl: Bool, pid: Int32) {
        let rows = try await store.rows("SELECT ssl, pid FROM pg_stat_ssl WHERE pid = pg_backend_pid()") { try $0.decode((Bool, Int32).self) }
        return try XCTUnwrap(rows.first)
    }

    /// Recovers a job through `parameters` on `host` and checks the connection is encrypted.
    private func assertConnectsOverTLS(_ parameters: String, host: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let store = try PostgresStore(url: try tlsDatabase(host: host, parameters))
        _ = try await store.recover(job: "j", table: table)
        let state = try await connectionState(store)
        XCTAssertTrue(state.ssl, "\(parameters) on \(host)", file: file, line: line)
        await store.close()
    }

    func testRequireEncryptsWithoutCheckingTheCertificate() async throws {
        try await assertConnectsOverTLS("sslmode=require", host: "127.0.0.1")
    }

    /// verify-full with the CA that signed the server's certificate and the
    /// host name it names connects over TLS, and a reconnection after the
    /// server dropped the connection is encrypted again.
    func testVerifyFullConnectsAndReconnectsOverTLS() async throws {
        let store = try PostgresStore(url: try tlsDatabase("sslmode=verify-full&sslrootcert=CA"))
        _ = try await store.recover(job: "j", table: table)
        let first = try await connectionState(store)
        XCTAssertTrue(first.ssl)

        let admin = try PostgresStore(url: try runningPostgresServer().url(database: "postgres"))
        _ = try await admin.rows("SELECT pg_terminate_backend(\(first.pid))") { try $0.decode(Bool.self) }
        await admin.close()
        _ = try await store.recover(job: "j", table: table)  // retried on a new connection
        let second = try await connectionState(store)
        XCTAssertNotEqual(second.pid, first.pid, "a new connection")
        XCTAssertTrue(second.ssl, "the new connection keeps the TLS settings")
        await store.close()
    }

    /// The word-count job commits its batches through verify-full.
    func testWordCountCommitsThroughVerifyFull() async throws {
        let url = try tlsDatabase("sslmode=verify-full&sslrootcert=CA")
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("tls-words")
        try cluster.createTopic(topic, partitions: 1)
        let lines = ["a b a", "c a", "b"]
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        for line in lines { _ = try await producer.send(KafkaProducerMessage(topic: topic, partition: 0, value: Array(line.utf8))) }
        try await producer.flush(timeout: .seconds(30))
        try producer.close()

        var job = WordCountJob(bootstrapServers: cluster.bootstrapServers, topic: topic, job: "tls-wc", sink: .postgres(url: url))
        job.partitions = [0]
        job.consumer = KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: "tls-wc")
        try job.createRepartitionTopics(on: cluster, partitions: 1)
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        try await job.define(on: driver.context)
        try driver.start()
        let reader = try PostgresStore(url: url)
        // The words reach the count through the job's repartition topic, in real time.
        try await driver.runBatches(until: { try await reader.counts() == ["a": 3, "b": 2, "c": 1] })
        await driver.stop(graceful: true)

        let state = try await connectionState(reader)
        XCTAssertTrue(state.ssl)
        await reader.close()
    }

    func testVerifyCAAcceptsAnyHostNameButNotAnotherCA() async throws {
        try await assertConnectsOverTLS("sslmode=verify-ca&sslrootcert=CA", host: "127.0.0.1")
        try await assertFailsAtStart("sslmode=verify-ca&sslrootcert=OTHER", host: "127.0.0.1", mentioning: "sslrootcert")
    }

    /// The certificate names `localhost`, not 127.0.0.1: verify-full refuses
    /// at once (no retries), saying what to change.
    func testVerifyFullRefusesAnotherHostName() async throws {
        try await assertFailsAtStart("sslmode=verify-full&sslrootcert=CA", host: "127.0.0.1", mentioning: "does not name the host")
    }

    /// As in libpq, require with a root certificate checks the certificate as verify-ca does.
    func testRequireWithARootCertificateChecksTheCA() async throws {
        try await assertFailsAtStart("sslmode=require&sslrootcert=OTHER", host: "127.0.0.1", mentioning: "TLS handshake failed")
    }

    func testVerifyFullRefusesACertificateFromAnotherCA() async throws {
        try await assertFailsAtStart("sslmode=verify-full&sslrootcert=OTHER", host: "localhost", mentioning: "TLS handshake failed")
    }

    private func assertFailsAtStart(_ parameters: String, host: String, mentioning text: String,
                                    file: StaticString = #filePath, line: UInt = #line) async throws {
        let store = try PostgresStore(url: try tlsDatabase(host: host, parameters))
        do {
            _ = try await store.recover(job: "j", table: table)
            XCTFail("connected with \(parameters) to \(host)", file: file, line: line)
        } catch let error as StreamingError {
            XCTAssertTrue(error.message.contains(text), error.message, file: file, line: line)
            XCTAssertEqual(error.code, .outputFailed, "not retried as a lost connection: \(error.message)", file: file, line: line)
        }
        let retries = await store.retries
        XCTAssertEqual(retries, 0, file: file, line: line)
        await store.close()
    }

    // MARK: A server without TLS, with password logins

    private nonisolated(unsafe) static var plainServer: PostgresTestServer?
    private static let passwordUser = "secret_user"

    private func plainServer() throws -> PostgresTestServer {
        if let server = Self.plainServer { return server }
        let server = try PostgresTestServer(tls: false, authenticationRules: ["host all \(Self.passwordUser) 127.0.0.1/32 scram-sha-256"])
        Self.plainServer = server
        return server
    }

    override class func tearDown() {
        if let server = plainServer {
            try? server.stop()
            try? FileManager.default.removeItem(at: server.directory)
        }
        plainServer = nil
        super.tearDown()
    }

    func testRequireAgainstAServerWithoutTLSFailsClearly() async throws {
        let store = try PostgresStore(url: try plainServer().makeDatabase("plain") + "?sslmode=require")
        do {
            _ = try await store.recover(job: "j", table: table)
            XCTFail("connected with sslmode=require to a server without TLS")
        } catch let error as StreamingError {
            XCTAssertTrue(error.message.contains("the server does not offer TLS"), error.message)
        }
        let retries = await store.retries
        XCTAssertEqual(retries, 0)
        await store.close()
    }

    /// A failed login names the user and the server, never the password;
    /// the right password (as the environment or a file would give it) logs in.
    func testFailedLoginDoesNotShowThePassword() async throws {
        let server = try plainServer()
        let database = try server.makeDatabase("login")
        let admin = try PostgresStore(url: database)
        _ = try await admin.rows("CREATE ROLE \(Self.passwordUser) LOGIN SUPERUSER PASSWORD 'right-pw-31'") { _ in 0 }
        await admin.close()
        let url = database.replacingOccurrences(of: "\(PostgresTestServer.user)@", with: "\(Self.passwordUser):wrong-pw-42@")

        var configuration = try PostgresStoreConfiguration(url: url)
        configuration.attempts = 1
        let store = PostgresStore(configuration: configuration)
        do {
            _ = try await store.recover(job: "j", table: table)
            XCTFail("logged in with a wrong password")
        } catch {
            let shown = ["\(error)", String(reflecting: error), store.description, "\(configuration)"]
            for text in shown { XCTAssertFalse(text.contains("wrong-pw-42"), text) }
            XCTAssertTrue("\(error)".contains(Self.passwordUser), "\(error)")
        }
        await store.close()

        configuration.password = "right-pw-31"
        let good = PostgresStore(configuration: configuration)
        _ = try await good.recover(job: "j", table: table)
        await good.close()
    }

    // MARK: Parsing

    func testSSLModesParseAndShowInTheDisplayURL() throws {
        for mode in PostgresTLSMode.allCases {
            let configuration = try PostgresStoreConfiguration(url: "postgres://u:pw@h/db?sslmode=\(mode.rawValue)")
            XCTAssertEqual(configuration.tls, mode)
            XCTAssertEqual(configuration.displayURL, "postgres://u:***@h:5432/db" + (mode == .disable ? "" : "?sslmode=\(mode.rawValue)"))
        }
        let verified = try PostgresStoreConfiguration(url: "postgres://h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        XCTAssertEqual(verified.rootCertificateFile, "/etc/ca.pem")
        XCTAssertEqual(try PostgresStoreConfiguration(url: "postgres://h/db").tls, .disable, "the default")
    }

    func testUnsupportedTLSSettingsFailNamingTheFix() {
        for (url, text) in [("postgres://u:pw@h/db?sslmode=prefer", "sslmode=prefer"),
                            ("postgres://u:pw@h/db?sslrootcert=/ca.pem", "add sslmode=verify-full"),
                            ("postgres://u:pw@h/db?sslcert=/c.pem", "'sslcert'")] {
            XCTAssertThrowsError(try PostgresStoreConfiguration(url: url)) { error in
                let message = (error as? StreamingError)?.message ?? "\(error)"
                XCTAssertTrue(message.contains(text), message)
                XCTAssertFalse(message.contains(":pw@"), "the password is hidden: \(message)")
            }
        }
    }

    func testRootCertificateFileWithoutAPEMCertificateFailsNamingIt() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-not-pem-\(UUID().uuidString)").path
        try "not a certificate".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let store = try PostgresStore(url: "postgres://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=\(path)")
        do {
            _ = try await store.recover(job: "j", table: table)
            XCTFail("connected with a root certificate file that holds none")
        } catch let error as StreamingError {
            XCTAssertTrue(error.message.contains("holds no usable PEM certificate") && error.message.contains(path), error.message)
        }
    }

    func testUnreadableRootCertificateFailsNamingIt() async throws {
        let store = try PostgresStore(url: "postgres://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/no/such/ca.pem")
        do {
            _ = try await store.recover(job: "j", table: table)
            XCTFail("connected without a root certificate")
        } catch let error as StreamingError {
            XCTAssertTrue(error.message.contains("sslrootcert") && error.message.contains("/no/such/ca.pem"), error.message)
        }
    }
}
