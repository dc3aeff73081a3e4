import Foundation

/// Where `print` writes its text. Inject one to capture output in tests.
public protocol TextSink: Sendable {
    /// Writes `text` (which ends with a newline) as one unit.
    func write(_ text: String)
}

/// Standard output, written with one `write` call per batch so that the
/// blocks of concurrent contexts never interleave line by line.
public struct StandardOutputSink: TextSink {
    public init() {}

    public func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// Keeps everything written, for tests.
public final class CapturingSink: TextSink {
    private let captured = Locked<[String]>([])

    public init() {}

    public func write(_ text: String) {
        captured.withLock { $0.append(text) }
    }

    /// Every block written so far, in order.
    public var blocks: [String] { captured.value }

    /// Everything written so far, concatenated.
    public var text: String { captured.value.joined() }
}
