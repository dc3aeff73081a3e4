import Foundation
import Sluice
import SluiceJobs
import XCTest

/// Secrets from a file, the environment or an argument: which wins, what
/// warns, and that bad inputs fail naming the option.
final class SecretInputTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory("sluice-secrets") }

    private func file(_ text: String) throws -> String { try directory.file(UUID().uuidString, text) }

    private func input(file: String? = nil, argument: String? = nil) -> SecretInput {
        SecretInput(fileOption: "--x-password-file", environmentVariable: "X_PASSWORD", file: file,
                    argument: argument.map { ($0, "--x-password") })
    }

    func testFileBeatsEnvironmentAndLosesItsTrailingNewline() throws {
        let resolved = try input(file: file("pa ss\n")).resolve(environment: ["X_PASSWORD": "from-env"])
        XCTAssertEqual(resolved.value, "pa ss")
        XCTAssertNil(resolved.warning)
    }

    func testEnvironmentIsUsedWhenNothingElseIsGiven() throws {
        XCTAssertEqual(try input().resolve(environment: ["X_PASSWORD": "from-env"]).value, "from-env")
        XCTAssertNil(try input().resolve(environment: ["X_PASSWORD": ""]).value, "an empty variable is no password")
        XCTAssertNil(try input().resolve(environment: [:]).value)
    }

    /// An argument works, with a warning that names the safer ways and not the password.
    func testArgumentWorksButWarns() throws {
        let resolved = try input(argument: "hunter2").resolve(environment: ["X_PASSWORD": "from-env"])
        XCTAssertEqual(resolved.value, "hunter2")
        let warning = try XCTUnwrap(resolved.warning)
        XCTAssertTrue(warning.contains("--x-password") && warning.contains("--x-password-file") && warning.contains("X_PASSWORD"), warning)
        XCTAssertFalse(warning.contains("hunter2"), warning)
    }

    func testBadInputsFailNamingTheOption() throws {
        let both = try file("a")
        let missing = directory.url.appendingPathComponent("missing").path
        let empty = try file("\n")
        for (given, mentions) in [(input(file: both, argument: "b"), "keep only --x-password-file"),
                                  (input(file: missing), missing), (input(file: empty), "is empty")] {
            XCTAssertThrowsError(try given.resolve(environment: [:])) { error in
                let message = (error as? StreamingError)?.message ?? "\(error)"
                XCTAssertTrue(message.hasPrefix("--x-password-file"), message)
                XCTAssertTrue(message.contains(mentions), message)
                XCTAssertFalse(message.contains("\"b\""), message)
            }
        }
    }
}
