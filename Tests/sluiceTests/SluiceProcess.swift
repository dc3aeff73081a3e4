import Foundation
import XCTest

/// Runs the built `sluice` executable as a child process and collects its
/// output, with every wait bounded in time.
final class SluiceProcess: @unchecked Sendable {
    let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    /// Guards the output and flags below; broadcast on every change.
    private let condition = NSCondition()
    private var stdoutData = Data()
    private var stderrData = Data()
    private var stdoutEnded = false
    private var stderrEnded = false
    private var exited = false

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

    /// Starts `sluice arguments…`; `environment` entries are added to (or
    /// replace) the test's own environment.
    init(_ arguments: [String], stdin: FileHandle? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = try Self.executableURL
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        if let stdin { process.standardInput = stdin }
        // Each pipe is read by a thread of its own, blocking until data or
        // end of file. corelibs-foundation's readability handlers (dispatch
        // sources) crashed the test runner in libdispatch's manager thread
        // (_dispatch_event_loop_drain, bad pointer at 0x30) now and then,
        // even with each handler removing itself at end of file.
        Self.read(stdoutPipe.fileHandleForReading, name: "stdout") { [weak self] data in
            self?.update { $0.stdoutData.append(data); if data.isEmpty { $0.stdoutEnded = true } }
        }
        Self.read(stderrPipe.fileHandleForReading, name: "stderr") { [weak self] data in
            self?.update { $0.stderrData.append(data); if data.isEmpty { $0.stderrEnded = true } }
        }
        process.terminationHandler = { [weak self] _ in self?.update { $0.exited = true } }
        try process.run()
    }

    /// Hands each chunk read from `handle` to `deliver` until end of file,
    /// which it delivers as an empty chunk.
    private static func read(_ handle: FileHandle, name: String, deliver: @escaping @Sendable (Data) -> Void) {
        let thread = Thread {
            while true {
                let data = handle.availableData
                deliver(data)
                if data.isEmpty { return }
            }
        }
        thread.name = "sluice-test-\(name)"
        thread.start()
    }

    var standardOutput: String { locked { String(decoding: $0.stdoutData, as: UTF8.self) } }
    var standardError: String { locked { String(decoding: $0.stderrData, as: UTF8.self) } }

    private func update(_ change: (SluiceProcess) -> Void) {
        condition.lock()
        change(self)
        condition.broadcast()
        condition.unlock()
    }

    private func locked<T>(_ read: (SluiceProcess) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return read(self)
    }

    /// Waits (woken by new output or the exit) until `ready` holds or the deadline passes.
    private func wait(until deadline: Date, _ ready: (SluiceProcess) -> Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !ready(self) {
            if !condition.wait(until: deadline) { return ready(self) }
        }
        return true
    }

    private static func date(after timeout: Duration) -> Date {
        Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
    }

    /// Waits until `ready` holds for the output so far (standard output,
    /// standard error), woken by each new output, or until the process and
    /// its output ended or `timeout` passed; returns whether it holds.
    func waitForOutput(timeout: Duration, _ ready: (_ standardOutput: String, _ standardError: String) -> Bool) -> Bool {
        func holds(_ process: SluiceProcess) -> Bool {
            ready(String(decoding: process.stdoutData, as: UTF8.self), String(decoding: process.stderrData, as: UTF8.self))
        }
        _ = wait(until: Self.date(after: timeout)) { holds($0) || ($0.exited && $0.stdoutEnded && $0.stderrEnded) }
        return locked(holds)
    }

    /// Records of every batch a run logged (`records=N` in its progress
    /// lines, logged at info level once the batch's outputs ran).
    static func recordsLogged(_ log: String) -> Int {
        log.split(separator: "\n").reduce(0) { total, line in
            guard let range = line.range(of: " records=") else { return total }
            return total + (Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0)
        }
    }

    /// Whether the last `count` batches a run logged read nothing, from its
    /// input or from its repartition topics: the job has caught up with
    /// what it wrote itself, not only with its input.
    static func isIdle(_ log: String, batches count: Int = 3) -> Bool {
        let progress = log.split(separator: "\n").filter { $0.contains(" records=") }
        guard progress.count >= count else { return false }
        return progress.suffix(count).allSatisfy { $0.contains(" records=0 ") && (!$0.contains("repartitioned=") || $0.contains("repartitioned=0 ")) }
    }

    /// Waits until standard output holds a line starting with `prefix` and returns it.
    func waitForLine(startingWith prefix: String, timeout: Duration) throws -> String {
        func line(_ process: SluiceProcess) -> Substring? {
            String(decoding: process.stdoutData, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(prefix) }.map { Substring($0) }
        }
        _ = wait(until: Self.date(after: timeout)) { line($0) != nil || $0.exited }
        if let found = locked(line) { return String(found) }
        throw TestFailure("no line starting with '\(prefix)' within \(timeout); stderr:\n\(standardError)")
    }

    /// Waits for the process to exit and for its output to be read to the
    /// end, and returns its status; kills it and throws when it outlives `timeout`.
    @discardableResult
    func waitForExit(timeout: Duration) throws -> Int32 {
        let deadline = Self.date(after: timeout)
        if !wait(until: deadline, { $0.exited }) {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("\(process.arguments ?? []) did not exit within \(timeout); stderr:\n\(standardError)")
        }
        process.waitUntilExit()
        // The pipes reach end of file once the process and its output are gone.
        _ = wait(until: max(deadline, Date(timeIntervalSinceNow: 5))) { $0.stdoutEnded && $0.stderrEnded }
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
