import Foundation
import Logging

/// Keeps log messages in memory, to assert on what a component logged.
public final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(Logger.Level, String)] = []

    public init() {}

    public func append(_ level: Logger.Level, _ message: String) {
        lock.withLock { entries.append((level, message)) }
    }

    public var messages: [String] { lock.withLock { entries.map(\.1) } }

    public func messages(at level: Logger.Level) -> [String] {
        lock.withLock { entries.filter { $0.0 == level }.map(\.1) }
    }

    /// A logger whose every message (at any level) lands here.
    public var logger: Logger {
        Logger(label: "test") { _ in CapturingLogHandler(capture: self) }
    }
}

/// The handler behind ``LogCapture/logger``.
public struct CapturingLogHandler: LogHandler {
    public let capture: LogCapture
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        capture.append(event.level, "\(event.message)")
    }
}
