import Foundation

/// Encodes a stateful operator's keys and values to bytes for a store, and
/// names the encoding so that a restart with changed types is caught at
/// start instead of misreading state.
///
/// The encoding is JSON (`Codable`) with sorted keys, so equal values give
/// equal bytes. Its description is `json-v1:<Key type>=><Value type>`.
public struct StateCodec<Key: Hashable & Sendable & Codable, Value: Sendable & Codable>: Sendable {
    /// The version of the byte format; bump when it changes.
    public static var formatVersion: String { "json-v1" }

    /// The encoding's name, stored with the state and compared on restore.
    public var encoding: String {
        "\(Self.formatVersion):\(String(reflecting: Key.self))=>\(String(reflecting: Value.self))"
    }

    public init() {}

    public func encodeKey(_ key: Key) throws -> [UInt8] { try Self.encode(key) }
    public func encodeValue(_ value: Value) throws -> [UInt8] { try Self.encode(value) }
    public func decodeKey(_ bytes: [UInt8]) throws -> Key { try Self.decode(Key.self, bytes) }
    public func decodeValue(_ bytes: [UInt8]) throws -> Value { try Self.decode(Value.self, bytes) }

    private static func encode<T: Codable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(Wrapped(value: value)))
    }

    private static func decode<T: Codable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(Wrapped<T>.self, from: Data(bytes)).value
    }

    /// Top-level JSON must be a container; wrapping also lets scalars through.
    private struct Wrapped<T: Codable>: Codable {
        var value: T
        init(value: T) { self.value = value }
        init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(T.self) }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }
}
