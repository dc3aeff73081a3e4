import Foundation
import XCTest

/// Runs the built `sluice` executable as a child process and collects its
/// output, with every wait bounded in time.
final class SluiceProcess: @unchecked Sendable {
    let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    /// The `sluice` binary next to the test bundle (SwiftPM puts products
    /// and the test runner in the same build directory).
    static var executableURL: URL {
        get throws {
            let candidates = [
                Bundle.main.executableURL?.deletingLastPathComponent(),
                Bundle(for: SluiceProcess.self).bundleURL.deletingLastPathComponent(),
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            ].compactMap { $0?.appendingPathComponent("sluice") }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw XCTSkip("the sluice executable was not found next to the tests (\(candidates.map(\.path))); build it with `swift build`")
            }
            return found
        }
    }

    init(_ arguments: [String], stdin: FileHandle? = nil) throws {
        process.executableURL = try Self.executableURL
        process.arguments = arguments
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        if let stdin { process.standardInput = stdin }
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.withLock { self.stdoutData.append(data) }
        }
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.withLock { self.stderrData.append(data) }
        }
        try process.run()
    }

    var standardOutput: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    var standardError: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Waits until standard output holds a line starting with `prefix` and returns it.
    func waitForLine(startingWith prefix: String, timeout: Duration) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = standardOutput.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line)
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("no line starting with '\(prefix)' within \(timeout); stderr:\n\(standardError)")
    }

    /// Waits for the process to exit and returns its status; kills it and
    /// throws when it outlives `timeout`.
    @discardableResult
    func waitForExit(timeout: Duration) throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("\(process.arguments ?? []) did not exit within \(timeout); stderr:\n\(standardError)")
        }
        process.waitUntilExit()
        // Let the readability handlers drain what is left in the pipes.
        Thread.sleep(forTimeInterval: 0.1)
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        stderrPipe.fileHandleForReading.readabilityHandler = nil
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
