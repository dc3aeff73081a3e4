import Foundation
import SluicePostgres
import SluicePostgresTesting
import XCTest

/// `sluice run` with the database password from a file, from the
/// environment and (warned about) from the URL, against a server that
/// checks passwords: the job commits, and neither its log nor its error on
/// a failed login ever contains the password.
final class SecretsProcessTests: XCTestCase {
    private static let user = "job_user"
    private static let password = "Right-pw-7c1"

    private nonisolated(unsafe) static var server: PostgresTestServer?

    override class func tearDown() {
        if let server {
            try? server.stop()
            try? FileManager.default.removeItem(at: server.directory)
        }
        server = nil
        super.tearDown()
    }

    /// A server that asks `job_user` for its password, and a database for this test.
    private func database() async throws -> (server: PostgresTestServer, url: String) {
        let server = try Self.server ?? PostgresTestServer(tls: false, authenticationRules: ["host all \(Self.user) 127.0.0.1/32 scram-sha-256"])
        if Self.server == nil {
            Self.server = server
            let admin = try PostgresStore(url: server.url(database: "postgres"))
            _ = try await admin.withConnection { connection in
                try await connection.query("CREATE ROLE \(unescaped: Self.user) LOGIN SUPERUSER PASSWORD '\(unescaped: Self.password)'",
                                           logger: .init(label: "test"))
            }
            await admin.close()
        }
        let url = try server.makeDatabase("secrets")
        return (server, url.replacingOccurrences(of: "\(PostgresTestServer.user)@", with: "\(Self.user)@"))
    }

    /// The job names the tests run (each its own consumer group, so each reads the topic from the start).
    private static let jobs = ["from-file", "from-environment"]

    /// An embedded cluster with `lines` records in topic `words`, and the jobs' repartition topics.
    private func cluster(lines: Int) throws -> (SluiceProcess, String) {
        let repartitions = Self.jobs.flatMap { ["--topic", "\($0)-words-repartition:1", "--topic", "\($0)-words-per-second-repartition:1"] }
        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "words:1"] + repartitions)
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "words", "--count", "\(lines)", "--seed", "5"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(60)), 0, produce.standardError)
        return (broker, bootstrap)
    }

    /// Runs the word count as job `name` (its own consumer group, so it reads the topic from the start) until it committed `lines`.
    private func runJob(_ name: String, bootstrap: String, sink: String, extra: [String] = [], environment: [String: String] = [:],
                        lines: Int) throws -> String {
        let job = try SluiceProcess(["run", "wordcount", "--bootstrap", bootstrap, "--topic", "words", "--sink", "postgres:\(sink)",
                                     "--job", name, "--assign", "--interval", "200ms", "--log-level", "info"] + extra, environment: environment)
        let done = job.waitForOutput(timeout: .seconds(60)) { _, log in SluiceProcess.recordsLogged(log) >= lines && SluiceProcess.isIdle(log) }
        job.signal(SIGTERM)
        _ = try job.waitForExit(timeout: .seconds(30))
        XCTAssertTrue(done, "the job committed the input:\n\(job.standardError)")
        return job.standardOutput + job.standardError
    }

    func testPasswordFromFileOrEnvironmentIsUsedAndNeverLogged() async throws {
        let (_, url) = try await database()
        let (broker, bootstrap) = try cluster(lines: 40)
        defer { broker.signal(SIGTERM); _ = try? broker.waitForExit(timeout: .seconds(15)) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pw-\(UUID().uuidString)").path
        try (Self.password + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }

        let fromFile = try runJob(Self.jobs[0], bootstrap: bootstrap, sink: url, extra: ["--sink-password-file", file], lines: 40)
        XCTAssertFalse(fromFile.contains(Self.password), fromFile)
        XCTAssertFalse(fromFile.contains("can be read by every user"), "no warning without a password argument")

        let fromEnvironment = try runJob(Self.jobs[1], bootstrap: bootstrap, sink: try await database().url,
                                         environment: ["SLUICE_SINK_PASSWORD": Self.password], lines: 40)
        XCTAssertFalse(fromEnvironment.contains(Self.password), fromEnvironment)
    }

    /// A wrong password in the URL: the job warns once about the argument,
    /// fails at start naming the login failure, and shows neither password.
    func testFailedLoginShowsNoPasswordAndTheArgumentWarnsOnce() async throws {
        let (_, url) = try await database()
        let (broker, bootstrap) = try cluster(lines: 1)
        defer { broker.signal(SIGTERM); _ = try? broker.waitForExit(timeout: .seconds(15)) }
        let wrong = "Wrong-pw-9d2"
        let job = try SluiceProcess(["run", "wordcount", "--bootstrap", bootstrap, "--topic", "words", "--assign",
                                     "--sink", "postgres:" + url.replacingOccurrences(of: "\(Self.user)@", with: "\(Self.user):\(wrong)@")],
                                    environment: ["SLUICE_SINK_PASSWORD": Self.password])
        XCTAssertNotEqual(try job.waitForExit(timeout: .seconds(60)), 0)
        let output = job.standardOutput + job.standardError
        XCTAssertFalse(output.contains(wrong) || output.contains(Self.password), output)
        XCTAssertEqual(output.components(separatedBy: "can be read by every user").count - 1, 1, output)
        XCTAssertTrue(output.contains("password authentication failed"), output)
    }
}
