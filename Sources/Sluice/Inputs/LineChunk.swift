/// Complete lines received from one connection: `bytes` ends with a newline
/// (or is the unterminated last line before the peer closed).
struct LineChunk: Sendable {
    var bytes: [UInt8]
    /// Which connection (1, 2, … as the source reconnects).
    var connection: Int
    /// 1-based number of the chunk's first line within its connection.
    var firstLine: Int
    /// Offset of the chunk's first byte within its connection.
    var firstByteOffset: Int
    /// Lines in the chunk.
    var lineCount: Int

    /// Calls `body` with each line (without `\n` or `\r\n`), its line number
    /// and byte offset within the connection.
    func forEachLine(_ body: (ArraySlice<UInt8>, _ line: Int, _ offset: Int) -> Void) {
        var start = bytes.startIndex
        var line = firstLine
        let end = bytes.endIndex
        while start < end {
            var newline = start
            while newline < end && bytes[newline] != 10 { newline += 1 }
            var lineEnd = newline
            if lineEnd > start && bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
            body(bytes[start..<lineEnd], line, firstByteOffset + start)
            line += 1
            start = newline + 1
        }
    }

    static func countNewlines(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var count = 0
            for byte in buffer where byte == 10 { count += 1 }
            return count
        }
    }
}

/// Splits chunks into at most `count` groups of about equal byte size,
/// keeping their order.
func splitChunks(_ chunks: [LineChunk], into count: Int) -> [[LineChunk]] {
    guard count > 1, chunks.count > 1 else { return [chunks] }
    let total = chunks.reduce(0) { $0 + $1.bytes.count }
    let target = max(1, total / count)
    var groups: [[LineChunk]] = [[]]
    var size = 0
    for chunk in chunks {
        if size >= target && groups.count < count {
            groups.append([])
            size = 0
        }
        groups[groups.count - 1].append(chunk)
        size += chunk.bytes.count
    }
    return groups
}
