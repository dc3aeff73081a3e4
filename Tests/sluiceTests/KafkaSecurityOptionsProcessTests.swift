import Foundation
import XCTest

/// The Kafka security options of the commands: misconfiguration fails at
/// start naming the option or setting, and a password argument warns once
/// without being printed.
final class KafkaSecurityOptionsProcessTests: XCTestCase {
    private func failure(_ arguments: [String]) throws -> String {
        let process = try SluiceProcess(arguments)
        XCTAssertNotEqual(try process.waitForExit(timeout: .seconds(30)), 0, "\(arguments) failed")
        return process.standardOutput + process.standardError
    }

    func testEveryKafkaCommandChecksTheSecuritySettingsAtStart() throws {
        let missingPassword = ["--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", "alice"]
        for command in [["tail", "--bootstrap", "127.0.0.1:1", "--topic", "t"],
                        ["produce", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--count", "1"],
                        ["wordcount", "--bootstrap", "127.0.0.1:1", "--topic", "t"],
                        ["run", "wordcount", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--sink", "sqlite:/nonexistent/x.db"]] {
            let output = try failure(command + missingPassword)
            XCTAssertTrue(output.contains("security.sasl.password") && output.contains("'alice'"), "\(command): \(output)")
        }
    }

    func testUnknownKafkaPropertyIsNamedAndAPasswordArgumentWarnsOnceUnprinted() throws {
        let output = try failure(["tail", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--sasl-mechanism", "PLAIN",
                                  "--sasl-username", "u", "--sasl-password", "Hunter2-pw", "--kafka-property", "fetch.wait.maxx.ms=5"])
        XCTAssertTrue(output.contains("'fetch.wait.maxx.ms'"), output)
        XCTAssertFalse(output.contains("Hunter2-pw"), output)
    }

    /// The job starts (and fails later, on its sink): the warning came once, the password never.
    func testPasswordArgumentWarnsOnce() throws {
        let output = try failure(["run", "wordcount", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--sink", "sqlite:/nonexistent/x.db",
                                  "--security-protocol", "sasl_plaintext", "--sasl-mechanism", "PLAIN",
                                  "--sasl-username", "u", "--sasl-password", "Hunter2-pw"])
        XCTAssertEqual(output.components(separatedBy: "can be read by every user").count - 1, 1, output)
        XCTAssertTrue(output.contains("--sasl-password-file"), output)
        XCTAssertFalse(output.contains("Hunter2-pw"), output)
    }
}
