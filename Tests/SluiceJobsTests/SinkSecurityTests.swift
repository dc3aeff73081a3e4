import Foundation
import Sluice
import SluiceJobs
import SluiceKafka
import SluiceKafkaSink
import SluicePostgres
import XCTest

/// A postgres: sink's password from `--sink-password-file`, the URL or
/// `SLUICE_SINK_PASSWORD`, never shown in the sink's description; a kafka:
/// sink connecting with the command's Kafka settings.
final class SinkSecurityTests: XCTestCase {
    private let url = "postgres://job@db.example:5432/results"

    private func password(of sink: SinkSpecification) throws -> String? {
        guard case .postgres(let url) = sink else { return nil }
        return try PostgresStoreConfiguration(url: url).password
    }

    func testPasswordFromFileReachesTheStoreEvenWithURLCharacters() throws {
        let secret = "p@ss:w/rd%?#"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-sink-\(UUID().uuidString)").path
        try (secret + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let (sink, warning) = try SinkSpecification("postgres:\(url)").resolvingPassword(file: path, environment: [:])
        XCTAssertEqual(try password(of: sink), secret)
        XCTAssertNil(warning)
        XCTAssertFalse(sink.description.contains("p@ss"), sink.description)
        XCTAssertEqual(sink.description, "postgres:postgres://job:***@db.example:5432/results")
    }

    func testPasswordFromEnvironment() throws {
        let (sink, warning) = try SinkSpecification("postgres:\(url)").resolvingPassword(
            file: nil, environment: [SinkSpecification.passwordVariable: "env-secret"])
        XCTAssertEqual(try password(of: sink), "env-secret")
        XCTAssertNil(warning)
    }

    /// A password in the URL works (and beats the environment) but warns, without showing it.
    func testPasswordInTheURLWorksButWarns() throws {
        let (sink, warning) = try SinkSpecification("postgres:postgres://job:in-url@db.example/results").resolvingPassword(
            file: nil, environment: [SinkSpecification.passwordVariable: "env-secret"])
        XCTAssertEqual(try password(of: sink), "in-url")
        let text = try XCTUnwrap(warning)
        XCTAssertTrue(text.contains("--sink-password-file") && text.contains(SinkSpecification.passwordVariable), text)
        XCTAssertFalse(text.contains("in-url"), text)
    }

    /// A kafka: sink's clients connect with the command's Kafka settings.
    func testKafkaSinkUsesTheConnectionSettings() throws {
        let settings = KafkaConnectionSettings(
            security: KafkaSecurityOptions(securityProtocol: .saslSSL, sasl: KafkaSASLOptions(mechanism: .plain, username: "u", password: "p")),
            additionalProperties: ["client.rack": "r1"])
        let store = try XCTUnwrap(try SinkSpecification("kafka:out").open(kafkaBootstrapServers: "b:9", kafka: settings) as? KafkaTransactionalStore)
        let producer = try XCTUnwrap(store.configuration.producer)
        XCTAssertEqual(producer.security.securityProtocol, .saslSSL)
        XCTAssertEqual(producer.security.sasl.password?.revealed, "p")
        XCTAssertEqual(producer.additionalProperties["client.rack"], "r1")
        XCTAssertEqual(producer.bootstrapServers, "b:9")
    }

    func testNoPasswordAnywhereLeavesTheSinkAsItIs() throws {
        let sink = try SinkSpecification("postgres:\(url)")
        XCTAssertEqual(try sink.resolvingPassword(file: nil, environment: [:]).sink, sink)
        let sqlite = try SinkSpecification("sqlite:x.db")
        XCTAssertEqual(try sqlite.resolvingPassword(file: nil, environment: [SinkSpecification.passwordVariable: "x"]).sink, sqlite)
        XCTAssertThrowsError(try sqlite.resolvingPassword(file: "/dev/null", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("--sink-password-file is for a postgres: sink"), "\(error)")
        }
    }
}
