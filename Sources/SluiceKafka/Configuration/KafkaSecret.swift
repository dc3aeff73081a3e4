/// A password or token that never shows up in descriptions, dumps or logs:
/// `"\(secret)"`, `debugPrint` and `dump` all print `<redacted>`.
/// Read the text itself with ``revealed`` only where it is handed on.
public struct KafkaSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, ExpressibleByStringLiteral
{
    /// The secret text, for the one place that passes it to librdkafka.
    public let revealed: String

    public init(_ value: String) { revealed = value }
    public init(stringLiteral value: String) { revealed = value }

    /// What descriptions of a secret print instead of it.
    public static let redactedText = "<redacted>"

    public var description: String { Self.redactedText }
    public var debugDescription: String { Self.redactedText }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
