/// A value in a result row, as sinks store it.
public enum ResultValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return value
        case .blob(let value): return "<\(value.count) bytes>"
        }
    }
}

/// Types that become one ``ResultValue``.
public protocol ResultValueConvertible: Sendable {
    var resultValue: ResultValue { get }
    /// The column type sinks declare for it.
    static var resultColumnType: ResultColumn.ColumnType { get }
}

extension String: ResultValueConvertible {
    public var resultValue: ResultValue { .text(self) }
    public static var resultColumnType: ResultColumn.ColumnType { .text }
}
extension Int: ResultValueConvertible {
    public var resultValue: ResultValue { .integer(Int64(self)) }
    public static var resultColumnType: ResultColumn.ColumnType { .integer }
}
extension Int64: ResultValueConvertible {
    public var resultValue: ResultValue { .integer(self) }
    public static var resultColumnType: ResultColumn.ColumnType { .integer }
}
extension Double: ResultValueConvertible {
    public var resultValue: ResultValue { .real(self) }
    public static var resultColumnType: ResultColumn.ColumnType { .real }
}

/// A column of a result table.
public struct ResultColumn: Hashable, Sendable {
    public enum ColumnType: String, Hashable, Sendable {
        case integer = "INTEGER", real = "REAL", text = "TEXT", blob = "BLOB"
    }
    public var name: String
    public var type: ColumnType
    /// Whether NULL is allowed. Default: false.
    public var nullable: Bool

    public init(_ name: String, _ type: ColumnType, nullable: Bool = false) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// Where an exactly-once output writes its rows, and how.
public struct ResultTable: Hashable, Sendable {
    /// How each batch's rows change the table.
    public enum Mode: Hashable, Sendable {
        /// Insert or replace by the key columns (running totals).
        case upsert(key: [String])
        /// Append every row (windowed rows, with window start/end columns).
        case append
        /// Replace the whole table with the batch's rows (a per-batch snapshot).
        case replace
    }

    public var name: String
    public var columns: [ResultColumn]
    public var mode: Mode

    public init(name: String, columns: [ResultColumn], mode: Mode) {
        self.name = name
        self.columns = columns
        self.mode = mode
    }

    /// Checks names (letters, digits, `_`, not starting with a digit) and
    /// that key columns exist; throws naming the offender.
    public func validate() throws {
        func check(_ identifier: String, _ what: String) throws {
            let valid = !identifier.isEmpty && identifier.count <= 63
                && identifier.unicodeScalars.allSatisfy { ($0.properties.isASCIIHexDigit || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "_" || ("0"..."9").contains($0)) }
                && !("0"..."9").contains(identifier.unicodeScalars.first ?? "0")
            guard valid else {
                throw StreamingError(
                    code: .invalidArgument,
                    message: "\(what) '\(identifier)' is not a valid name: use letters, digits and _, not starting with a digit")
            }
        }
        try check(name, "table")
        guard !columns.isEmpty else { throw StreamingError(code: .invalidArgument, message: "table '\(name)' has no columns") }
        for column in columns { try check(column.name, "column of table '\(name)'") }
        if Set(columns.map(\.name)).count != columns.count {
            throw StreamingError(code: .invalidArgument, message: "table '\(name)' names a column twice")
        }
        if case .upsert(let key) = mode {
            guard !key.isEmpty else { throw StreamingError(code: .invalidArgument, message: "upsert table '\(name)' needs key columns") }
            for column in key where !columns.contains(where: { $0.name == column }) {
                throw StreamingError(code: .invalidArgument, message: "key column '\(column)' is not a column of table '\(name)'")
            }
        }
    }
}
