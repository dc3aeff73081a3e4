import NIOCore
import PostgresNIO
import Sluice

/// The SQL the store runs. Every value travels as a bind parameter; the only
/// names spliced into SQL text are the result table's and its columns',
/// which ``ResultTable/validate()`` restricts to letters, digits and `_`
/// and which are always double-quoted.
enum PostgresSchema {
    /// Serialises schema changes of concurrent starters (CREATE TABLE IF NOT
    /// EXISTS races on the catalog otherwise). Any constant works; "sluice".
    static let schemaLockKey: Int64 = 0x736C_7569_6365

    /// The bookkeeping tables, as SQLiteStore keeps them (BIGINT for
    /// INTEGER, BYTEA for BLOB).
    static let bookkeeping: [String] = [
        """
        CREATE TABLE IF NOT EXISTS sluice_jobs(
            job TEXT PRIMARY KEY, last_batch_time BIGINT NOT NULL, committed_at BIGINT NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS sluice_offsets(
            job TEXT NOT NULL, topic TEXT NOT NULL, "partition" INTEGER NOT NULL, next_offset BIGINT NOT NULL,
            PRIMARY KEY(job, topic, "partition"))
        """,
        """
        CREATE TABLE IF NOT EXISTS sluice_state(
            job TEXT NOT NULL, "operator" TEXT NOT NULL, "key" BYTEA NOT NULL, "value" BYTEA NOT NULL,
            PRIMARY KEY(job, "operator", "key"))
        """,
        """
        CREATE TABLE IF NOT EXISTS sluice_state_encodings(
            job TEXT NOT NULL, "operator" TEXT NOT NULL, encoding TEXT NOT NULL, PRIMARY KEY(job, "operator"))
        """,
        """
        CREATE TABLE IF NOT EXISTS sluice_dead_letters(
            job TEXT NOT NULL, topic TEXT NOT NULL, "partition" INTEGER NOT NULL, "offset" BIGINT NOT NULL,
            batch_time BIGINT NOT NULL, error TEXT NOT NULL, payload BYTEA NOT NULL,
            PRIMARY KEY(job, topic, "partition", "offset"))
        """,
        """
        CREATE TABLE IF NOT EXISTS sluice_owners(
            job TEXT NOT NULL, task TEXT NOT NULL, epoch BIGINT NOT NULL, owner TEXT NOT NULL,
            claimed_at BIGINT NOT NULL, committed_at BIGINT, PRIMARY KEY(job, task))
        """,
    ]

    /// The tables keyed by job, which a reset empties for that job.
    static let jobTables = ["sluice_jobs", "sluice_offsets", "sluice_state", "sluice_state_encodings", "sluice_dead_letters", "sluice_owners"]

    /// Most bind parameters in one statement (the protocol allows 65,535).
    static let maximumBinds = 30_000

    static func quoted(_ identifier: String) -> String { "\"\(identifier)\"" }

    static func sqlType(_ type: ResultColumn.ColumnType) -> String {
        switch type {
        case .integer: return "BIGINT"
        case .real: return "DOUBLE PRECISION"
        case .text: return "TEXT"
        case .blob: return "BYTEA"
        }
    }

    /// `CREATE TABLE` for a validated result table.
    static func createTable(_ table: ResultTable) -> String {
        var definitions = table.columns.map { "\(quoted($0.name)) \(sqlType($0.type))\($0.nullable ? "" : " NOT NULL")" }
        if case .upsert(let key) = table.mode {
            definitions.append("PRIMARY KEY(\(key.map(quoted).joined(separator: ", ")))")
        }
        return "CREATE TABLE \(quoted(table.name))(\(definitions.joined(separator: ", ")))"
    }

    /// `($1, $2), ($3, $4), …` for `rows` rows of `width` values.
    static func valuesList(rows: Int, width: Int) -> String {
        (0..<rows).map { row in
            "(" + (1...width).map { "$\(row * width + $0)" }.joined(separator: ", ") + ")"
        }.joined(separator: ", ")
    }

    /// The multi-row INSERT of a validated result table, for `rows` rows.
    static func insertRows(_ table: ResultTable, rows: Int) -> String {
        let columns = table.columns.map { quoted($0.name) }.joined(separator: ", ")
        return "INSERT INTO \(quoted(table.name))(\(columns)) VALUES \(valuesList(rows: rows, width: table.columns.count))"
            + conflictClause(table)
    }

    /// The INSERT of a validated result table whose rows arrive as one array
    /// per column (`unnest($1::TEXT[], $2::BIGINT[])`): a statement of a few
    /// parameters however many rows, which the server parses in no time.
    static func insertColumnArrays(_ table: ResultTable) -> String {
        let columns = table.columns.map { quoted($0.name) }.joined(separator: ", ")
        let arrays = table.columns.enumerated().map { "$\($0.offset + 1)::\(sqlType($0.element.type))[]" }.joined(separator: ", ")
        return "INSERT INTO \(quoted(table.name))(\(columns)) SELECT * FROM unnest(\(arrays))" + conflictClause(table)
    }

    /// Upserts update a row only when a value changed: a running total
    /// job rewrites every key each batch, and an unchanged row then costs
    /// no new row version.
    private static func conflictClause(_ table: ResultTable) -> String {
        guard case .upsert(let key) = table.mode else { return "" }
        let values = table.columns.filter { !key.contains($0.name) }.map { quoted($0.name) }
        guard !values.isEmpty else { return " ON CONFLICT(\(key.map(quoted).joined(separator: ", "))) DO NOTHING" }
        let updates = values.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        let current = values.map { "\(quoted(table.name)).\($0)" }.joined(separator: ", ")
        let incoming = values.map { "excluded.\($0)" }.joined(separator: ", ")
        return " ON CONFLICT(\(key.map(quoted).joined(separator: ", "))) DO UPDATE SET \(updates)"
            + " WHERE ROW(\(current)) IS DISTINCT FROM ROW(\(incoming))"
    }

    /// One array per column for ``insertColumnArrays(_:)``, or nil when a
    /// value is NULL or not of its column's type (postgres-nio's arrays
    /// hold no NULLs): those rows take the VALUES form, and the server
    /// judges them.
    static func columnArrays(_ rows: [[ResultValue]], table: ResultTable) -> PostgresBindings? {
        guard rows.allSatisfy({ $0.count == table.columns.count }) else { return nil }
        var binds = PostgresBindings(capacity: table.columns.count)
        for (index, column) in table.columns.enumerated() {
            switch column.type {
            case .integer:
                var values: [Int64] = []
                values.reserveCapacity(rows.count)
                for row in rows {
                    guard case .integer(let value) = row[index] else { return nil }
                    values.append(value)
                }
                binds.append(values)
            case .real:
                var values: [Double] = []
                values.reserveCapacity(rows.count)
                for row in rows {
                    guard case .real(let value) = row[index] else { return nil }
                    values.append(value)
                }
                binds.append(values)
            case .text:
                var values: [String] = []
                values.reserveCapacity(rows.count)
                for row in rows {
                    guard case .text(let value) = row[index] else { return nil }
                    values.append(value)
                }
                binds.append(values)
            case .blob:
                var values: [ByteBuffer] = []
                values.reserveCapacity(rows.count)
                for row in rows {
                    guard case .blob(let value) = row[index] else { return nil }
                    values.append(ByteBuffer(bytes: value))
                }
                binds.append(values)
            }
        }
        return binds
    }

    /// Upsert rows by key, the last row of a key winning (as row-by-row
    /// upserts would; one INSERT … ON CONFLICT may not touch a key twice).
    static func lastRowPerKey(_ rows: [[ResultValue]], table: ResultTable) -> [[ResultValue]] {
        guard case .upsert(let key) = table.mode else { return rows }
        let keyIndices = key.compactMap { name in table.columns.firstIndex { $0.name == name } }
        var position: [[ResultValue]: Int] = [:]
        var kept: [[ResultValue]] = []
        for row in rows {
            let rowKey = keyIndices.map { $0 < row.count ? row[$0] : .null }
            if let index = position[rowKey] {
                kept[index] = row
            } else {
                position[rowKey] = kept.count
                kept.append(row)
            }
        }
        return kept
    }
}

extension PostgresBindings {
    mutating func append(_ value: ResultValue) {
        switch value {
        case .null: appendNull()
        case .integer(let value): append(value)
        case .real(let value): append(value)
        case .text(let value): append(value)
        case .blob(let value): append(ByteBuffer(bytes: value))
        }
    }

    mutating func append(bytes: [UInt8]) {
        append(ByteBuffer(bytes: bytes))
    }
}
