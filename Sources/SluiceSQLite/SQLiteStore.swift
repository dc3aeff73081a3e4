import Foundation
import GRDB
import Sluice

/// The embedded exactly-once store: one SQLite file (WAL mode) holds the
/// jobs' result tables, offsets, operator state and dead letters; each
/// batch is one SQLite transaction.
///
/// Tables it keeps, keyed by job name:
/// `sluice_jobs(job, last_batch_time, committed_at)`,
/// `sluice_offsets(job, topic, partition, next_offset)`,
/// `sluice_state(job, operator, key, value)`,
/// `sluice_state_encodings(job, operator, encoding)`,
/// `sluice_dead_letters(job, topic, partition, offset, batch_time, error, payload)`,
/// `sluice_owners(job, task, epoch, owner, claimed_at, committed_at)` (the
/// process that holds the job; `task` is empty for a whole job).
///
/// Processes on one host may share the file: SQLite serialises their
/// transactions, and the owner epoch fences all but the latest claimant.
public final class SQLiteStore: ExactlyOnceStore {
    public let path: String
    private let pool: DatabasePool

    public var description: String { "sqlite:\(path)" }

    /// Opens (creating if needed) the database file; throws naming the path.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in try Self.createBookkeeping(db) }
        } catch {
            throw StreamingError(code: .io, message: "cannot open the SQLite store '\(path)': \(error)", underlying: error)
        }
    }

    public func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob {
        for table in tables { try table.validate() }
        return try await pool.write { db in
            for table in tables { try Self.createResultTable(table, db) }
            let last = try Int64.fetchOne(db, sql: "SELECT last_batch_time FROM sluice_jobs WHERE job = ?", arguments: [job])
            let offsets = try Row.fetchAll(
                db, sql: "SELECT topic, partition, next_offset FROM sluice_offsets WHERE job = ? ORDER BY topic, partition",
                arguments: [job]
            ).map { SourceOffset(topic: $0["topic"], partition: $0["partition"], offset: $0["next_offset"]) }
            var operators: [String: RecoveredOperatorState] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT operator, encoding FROM sluice_state_encodings WHERE job = ?", arguments: [job]) {
                let name: String = row["operator"]
                let entries = try Row.fetchAll(
                    db, sql: "SELECT key, value FROM sluice_state WHERE job = ? AND operator = ?", arguments: [job, name]
                ).map { EncodedStateEntry(key: Array(($0["key"] as Data?) ?? Data()), value: Array(($0["value"] as Data?) ?? Data())) }
                operators[name] = RecoveredOperatorState(encoding: row["encoding"], entries: entries)
            }
            return RecoveredJob(lastBatchTime: last.map { Time(milliseconds: $0) }, offsets: offsets, operators: operators)
        }
    }

    public func claim(job: String, owner: JobOwner) async throws -> OwnerClaim {
        try await pool.write { db in
            let previous = try String.fetchOne(db, sql: "SELECT owner FROM sluice_owners WHERE job = ? AND task = ''", arguments: [job])
            try db.execute(
                sql: """
                    INSERT INTO sluice_owners(job, task, epoch, owner, claimed_at) VALUES (?, '', 1, ?, ?)
                    ON CONFLICT(job, task) DO UPDATE SET epoch = epoch + 1, owner = excluded.owner, claimed_at = excluded.claimed_at
                    """,
                arguments: [job, owner.name, Self.now()])
            let epoch = try Int64.fetchOne(db, sql: "SELECT epoch FROM sluice_owners WHERE job = ? AND task = ''", arguments: [job])
            return OwnerClaim(epoch: epoch, previousOwner: previous)
        }
    }

    public func claim(job: String, tasks: [TaskID], owner: JobOwner) async throws -> [TaskID: Int64] {
        try await pool.write { db in
            var epochs: [TaskID: Int64] = [:]
            for task in tasks {
                try db.execute(
                    sql: """
                        INSERT INTO sluice_owners(job, task, epoch, owner, claimed_at) VALUES (?, ?, 1, ?, ?)
                        ON CONFLICT(job, task) DO UPDATE SET epoch = epoch + 1, owner = excluded.owner, claimed_at = excluded.claimed_at
                        """,
                    arguments: [job, task.description, owner.name, Self.now()])
                epochs[task] = try Int64.fetchOne(
                    db, sql: "SELECT epoch FROM sluice_owners WHERE job = ? AND task = ?", arguments: [job, task.description])
            }
            return epochs
        }
    }

    public func recover(job: String, partitions: [TaskID], operators: [String]) async throws -> RecoveredJob {
        try await pool.read { db in
            var offsets: [SourceOffset] = []
            for partition in partitions {
                if let next = try Int64.fetchOne(
                    db, sql: "SELECT next_offset FROM sluice_offsets WHERE job = ? AND topic = ? AND partition = ?",
                    arguments: [job, partition.topic, Int64(partition.partition)]) {
                    offsets.append(SourceOffset(topic: partition.topic, partition: partition.partition, offset: next))
                }
            }
            var recovered: [String: RecoveredOperatorState] = [:]
            for name in operators {
                guard let encoding = try String.fetchOne(
                    db, sql: "SELECT encoding FROM sluice_state_encodings WHERE job = ? AND operator = ?", arguments: [job, name])
                else { continue }
                let entries = try Row.fetchAll(
                    db, sql: "SELECT key, value FROM sluice_state WHERE job = ? AND operator = ?", arguments: [job, name]
                ).map { EncodedStateEntry(key: Array(($0["key"] as Data?) ?? Data()), value: Array(($0["value"] as Data?) ?? Data())) }
                recovered[name] = RecoveredOperatorState(encoding: encoding, entries: entries)
            }
            let last = try Int64.fetchOne(db, sql: "SELECT last_batch_time FROM sluice_jobs WHERE job = ?", arguments: [job])
            return RecoveredJob(lastBatchTime: last.map { Time(milliseconds: $0) }, offsets: offsets, operators: recovered)
        }
    }

    @discardableResult
    public func commit(_ commit: BatchCommit) async throws -> CommitOutcome {
        try await pool.write { db in
            // Write transactions are IMMEDIATE (GRDB's default): no claim can
            // come between an owner check and the commit.
            if let epoch = commit.ownerEpoch, try !Self.holds(job: commit.job, task: "", epoch: epoch, db) {
                let holder = try Row.fetchOne(db, sql: "SELECT owner, epoch FROM sluice_owners WHERE job = ? AND task = ''", arguments: [commit.job])
                throw StreamingError.fenced(
                    job: commit.job, batchTime: commit.batchTime, epoch: epoch,
                    currentOwner: holder?["owner"], currentEpoch: holder?["epoch"])
            }
            try Self.write(
                job: commit.job, batchTime: commit.batchTime, writes: commit.writes, offsets: commit.offsets,
                stateChanges: commit.stateChanges, deadLetters: commit.deadLetters, db)
            var fenced: [FencedTask] = []
            for section in commit.tasks {
                guard try Self.holds(job: commit.job, task: section.task.description, epoch: section.epoch, db) else {
                    let owner = try String.fetchOne(
                        db, sql: "SELECT owner FROM sluice_owners WHERE job = ? AND task = ?", arguments: [commit.job, section.task.description])
                    fenced.append(FencedTask(task: section.task, owner: owner))
                    continue
                }
                try Self.write(
                    job: commit.job, batchTime: commit.batchTime, writes: section.writes, offsets: section.offsets,
                    stateChanges: section.stateChanges, deadLetters: section.deadLetters, db)
            }
            try db.execute(
                sql: """
                    INSERT INTO sluice_jobs(job, last_batch_time, committed_at) VALUES (?, ?, ?)
                    ON CONFLICT(job) DO UPDATE SET last_batch_time = excluded.last_batch_time, committed_at = excluded.committed_at
                    """,
                arguments: [commit.job, commit.batchTime.milliseconds, Self.now()])
            return CommitOutcome(fenced: fenced)
        }
    }

    /// Whether `epoch` is still the owner epoch of the job's `task` (empty:
    /// the whole job); notes the commit time when it is.
    private static func holds(job: String, task: String, epoch: Int64, _ db: Database) throws -> Bool {
        try db.execute(
            sql: "UPDATE sluice_owners SET committed_at = ? WHERE job = ? AND task = ? AND epoch = ?",
            arguments: [now(), job, task, epoch])
        return db.changesCount > 0
    }

    /// Writes one commit's (or one task section's) rows, offsets, state and dead letters.
    private static func write(
        job: String, batchTime: Time, writes: [TableWrite], offsets: [SourceOffset],
        stateChanges: [OperatorStateChange], deadLetters: [DeadLetter], _ db: Database
    ) throws {
        for write in writes { try writeRows(write.table, write.rows, db) }
        let offsetStatement = try db.cachedStatement(sql: """
            INSERT INTO sluice_offsets(job, topic, partition, next_offset) VALUES (?, ?, ?, ?)
            ON CONFLICT(job, topic, partition) DO UPDATE SET next_offset = excluded.next_offset
            """)
        for offset in offsets {
            try offsetStatement.execute(arguments: [job, offset.topic, Int64(offset.partition), offset.offset])
        }
        let upsertState = try db.cachedStatement(sql: """
            INSERT INTO sluice_state(job, operator, key, value) VALUES (?, ?, ?, ?)
            ON CONFLICT(job, operator, key) DO UPDATE SET value = excluded.value
            """)
        let deleteState = try db.cachedStatement(sql: "DELETE FROM sluice_state WHERE job = ? AND operator = ? AND key = ?")
        let encodingStatement = try db.cachedStatement(sql: """
            INSERT INTO sluice_state_encodings(job, operator, encoding) VALUES (?, ?, ?)
            ON CONFLICT(job, operator) DO UPDATE SET encoding = excluded.encoding
            """)
        for change in stateChanges {
            try encodingStatement.execute(arguments: [job, change.name, change.encoding])
            for entry in change.delta.upserts {
                try upsertState.execute(arguments: [job, change.name, Data(entry.key), Data(entry.value)])
            }
            for key in change.delta.deletes {
                try deleteState.execute(arguments: [job, change.name, Data(key)])
            }
        }
        let deadLetter = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO sluice_dead_letters(job, topic, partition, "offset", batch_time, error, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for letter in deadLetters {
            try deadLetter.execute(arguments: [job, letter.topic, Int64(letter.partition), letter.offset,
                                               batchTime.milliseconds, letter.error, Data(letter.payload)])
        }
    }

    /// Milliseconds since 1970, as the bookkeeping tables keep times.
    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Deletes a job's offsets, state, dead letters, owner and bookkeeping
    /// (not its result table): the next start begins from the source's start
    /// position, and a process still running the job is fenced.
    public func reset(job: String) throws {
        try pool.write { db in
            for table in ["sluice_jobs", "sluice_offsets", "sluice_state", "sluice_state_encodings", "sluice_dead_letters", "sluice_owners"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE job = ?", arguments: [job])
            }
        }
    }

    /// Runs a read-only query (for tests, tools and users' checks).
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    // MARK: Schema

    private static func createBookkeeping(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS sluice_jobs(
                job TEXT PRIMARY KEY, last_batch_time INTEGER NOT NULL, committed_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS sluice_offsets(
                job TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
                PRIMARY KEY(job, topic, partition));
            CREATE TABLE IF NOT EXISTS sluice_state(
                job TEXT NOT NULL, operator TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                PRIMARY KEY(job, operator, key)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS sluice_state_encodings(
                job TEXT NOT NULL, operator TEXT NOT NULL, encoding TEXT NOT NULL, PRIMARY KEY(job, operator));
            CREATE TABLE IF NOT EXISTS sluice_dead_letters(
                job TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
                batch_time INTEGER NOT NULL, error TEXT NOT NULL, payload BLOB NOT NULL,
                PRIMARY KEY(job, topic, partition, "offset"));
            CREATE TABLE IF NOT EXISTS sluice_owners(
                job TEXT NOT NULL, task TEXT NOT NULL, epoch INTEGER NOT NULL, owner TEXT NOT NULL,
                claimed_at INTEGER NOT NULL, committed_at INTEGER, PRIMARY KEY(job, task));
            """)
    }

    private static func createResultTable(_ table: ResultTable, _ db: Database) throws {
        if try db.tableExists(table.name) {
            let existing = try db.columns(in: table.name).map(\.name)
            let wanted = table.columns.map(\.name)
            guard existing == wanted else {
                throw StreamingError(
                    code: .invalidArgument,
                    message: "table '\(table.name)' exists with columns \(existing), but the job writes \(wanted); rename the table or drop it")
            }
            return
        }
        var definitions = table.columns.map { "\"\($0.name)\" \($0.type.rawValue)\($0.nullable ? "" : " NOT NULL")" }
        if case .upsert(let key) = table.mode {
            definitions.append("PRIMARY KEY(\(key.map { "\"\($0)\"" }.joined(separator: ", ")))")
        }
        try db.execute(sql: "CREATE TABLE \"\(table.name)\"(\(definitions.joined(separator: ", ")))")
    }

    private static func writeRows(_ table: ResultTable, _ rows: [[ResultValue]], _ db: Database) throws {
        let columns = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
        let sql: String
        switch table.mode {
        case .upsert(let key):
            let updates = table.columns.filter { !key.contains($0.name) }.map { "\"\($0.name)\" = excluded.\"\($0.name)\"" }
            let conflict = key.map { "\"\($0)\"" }.joined(separator: ", ")
            sql = "INSERT INTO \"\(table.name)\"(\(columns)) VALUES (\(placeholders)) ON CONFLICT(\(conflict)) "
                + (updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET \(updates.joined(separator: ", "))")
        case .append:
            sql = "INSERT INTO \"\(table.name)\"(\(columns)) VALUES (\(placeholders))"
        case .replace:
            try db.execute(sql: "DELETE FROM \"\(table.name)\"")
            sql = "INSERT INTO \"\(table.name)\"(\(columns)) VALUES (\(placeholders))"
        }
        let statement = try db.cachedStatement(sql: sql)
        for row in rows {
            try statement.execute(arguments: StatementArguments(row.map(\.databaseValue)))
        }
    }
}

extension ResultValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let value): return value.databaseValue
        case .real(let value): return value.databaseValue
        case .text(let value): return value.databaseValue
        case .blob(let value): return Data(value).databaseValue
        }
    }
}
