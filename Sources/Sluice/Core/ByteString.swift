#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run of bytes (a line or a word) that shares the buffer it was received
/// in: no copy, no String, no UTF-8 decoding. Hashes its bytes in one call
/// and compares them with `memcmp`, so `reduceByKey` over words runs on
/// byte slices. Prints as UTF-8 text.
public struct ByteString: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var bytes: ArraySlice<UInt8>

    @inlinable
    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    @inlinable
    public init(_ string: String) {
        bytes = ArraySlice(string.utf8)
    }

    @inlinable
    public init(stringLiteral value: String) {
        self.init(value)
    }

    @inlinable
    public var count: Int { bytes.count }

    @inlinable
    public var isEmpty: Bool { bytes.isEmpty }

    /// The bytes decoded as UTF-8 (invalid sequences become U+FFFD).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { string }

    @inlinable
    public static func == (lhs: ByteString, rhs: ByteString) -> Bool {
        let count = lhs.bytes.count
        guard count == rhs.bytes.count else { return false }
        if count == 0 { return true }
        return lhs.bytes.withUnsafeBytes { left in
            rhs.bytes.withUnsafeBytes { right -> Bool in
                guard let l = left.baseAddress, let r = right.baseAddress else { return false }
                return memcmp(l, r, count) == 0
            }
        }
    }

    @inlinable
    public static func < (lhs: ByteString, rhs: ByteString) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// The non-empty runs between `separator` bytes, lazily, without
    /// allocating (for `flatMap { $0.tokens() }`).
    @inlinable
    public func tokens(separator: UInt8 = UInt8(ascii: " ")) -> Tokens {
        Tokens(bytes: bytes, separator: separator)
    }

    /// The non-empty runs between `separator` bytes.
    @inlinable
    public func split(separator: UInt8) -> [ByteString] {
        Array(tokens(separator: separator))
    }

    /// Lazily splits a byte string at a separator byte, skipping empty runs.
    public struct Tokens: Sequence, IteratorProtocol, Sendable {
        @usableFromInline let bytes: ArraySlice<UInt8>
        @usableFromInline let separator: UInt8
        @usableFromInline var position: Int

        @inlinable
        init(bytes: ArraySlice<UInt8>, separator: UInt8) {
            self.bytes = bytes
            self.separator = separator
            self.position = bytes.startIndex
        }

        @inlinable
        public mutating func next() -> ByteString? {
            let end = bytes.endIndex
            while position < end && bytes[position] == separator { position += 1 }
            guard position < end else { return nil }
            let start = position
            while position < end && bytes[position] != separator { position += 1 }
            return ByteString(bytes[start..<position])
        }
    }
}
