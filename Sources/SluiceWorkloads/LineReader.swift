#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file (or standard input) one line at a time as bytes, without
/// decoding: `\n` ends a line, a trailing `\r` is dropped, and a last line
/// without a newline is still returned.
public struct LineReader: IteratorProtocol {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// Bytes read so far, for progress and error positions.
    public private(set) var bytesRead = 0
    /// Lines returned so far.
    public private(set) var lineNumber = 0

    /// Opens `path`, or standard input for `-`. Throws naming the path.
    public init(path: String) throws {
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw LineReaderError(path: path, reason: String(cString: strerror(errno))) }
            descriptor = fd
            ownsDescriptor = true
        }
    }

    /// Closes the file (not standard input).
    public func close() {
        if ownsDescriptor { _ = Glibc.close(descriptor) }
    }

    public mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = Array(buffer[start..<end])
                start = newline + 1
                lineNumber += 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                lineNumber += 1
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 {
                atEnd = true
            } else {
                bytesRead += count
                buffer.append(contentsOf: chunk[0..<count])
            }
        }
    }
}

/// A file that could not be opened for reading.
public struct LineReaderError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot read '\(path)': \(reason)" }
}
