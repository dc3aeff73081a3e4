import Foundation
import Logging
import NIOCore
import PostgresNIO
import Sluice

/// The PostgreSQL exactly-once store: the job's result table, offsets,
/// operator state and dead letters live in one database, and each batch is
/// one SQL transaction (BEGIN … COMMIT).
///
/// It keeps the tables of ``SluiceSQLite/SQLiteStore``, keyed by job name:
/// `sluice_jobs(job, last_batch_time, committed_at)`,
/// `sluice_offsets(job, topic, partition, next_offset)`,
/// `sluice_state(job, operator, key, value)`,
/// `sluice_state_encodings(job, operator, encoding)`,
/// `sluice_dead_letters(job, topic, partition, offset, batch_time, error, payload)`,
/// `sluice_owners(job, task, epoch, owner, claimed_at, committed_at)`.
/// Processes on many hosts may share the database: the owner epoch, checked
/// in each commit's transaction, fences all but the latest claimant.
///
/// One connection, used by one operation at a time. When it drops (the
/// server restarted, say) a commit is tried again on a new connection with
/// growing waits, up to ``PostgresStoreConfiguration/attempts``, then
/// throws. Trying again is safe: a transaction that did not commit left
/// nothing, and when the connection dropped during COMMIT itself the store
/// asks the server (`txid_status`) whether that transaction committed
/// before deciding to repeat it.
public actor PostgresStore: ExactlyOnceStore {
    public nonisolated let configuration: PostgresStoreConfiguration
    public nonisolated let description: String

    private var logger: Logger { configuration.logger }
    private var connection: PostgresConnection?
    private var connectionCount = 0
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// The bookkeeping tables exist (set once a transaction that created them committed).
    private var schemaReady = false
    private var schemaPreparedInTransaction = false

    /// Attempts that failed on a lost connection and were repeated, since
    /// the store was opened (for tests and monitoring).
    public private(set) var retries = 0

    /// Where tests make the next transaction lose its connection.
    enum InjectedFault: Sendable {
        /// COMMIT runs, then the connection drops before its answer is read.
        case answerLost
        /// The connection drops instead of sending COMMIT.
        case beforeCommit
    }
    private var injectedFault: InjectedFault?

    /// For tests: the next transaction loses its connection at `fault`.
    func inject(_ fault: InjectedFault) { injectedFault = fault }

    /// A store for `configuration`; connects on first use.
    public init(configuration: PostgresStoreConfiguration) {
        self.configuration = configuration
        self.description = "postgres:\(configuration.displayURL)"
    }

    /// A store for `postgres://user:password@host:port/database`.
    public init(url: String) throws {
        self.init(configuration: try PostgresStoreConfiguration(url: url))
    }

    deinit {
        // The closure keeps the connection until its channel is closed
        // (PostgresConnection asserts that it is closed when released).
        if let connection {
            connection.close().whenComplete { _ in _ = connection }
        }
    }

    /// Closes the connection; the next call opens a new one.
    public func close() async {
        let open = connection
        connection = nil
        try? await open?.close()
    }

    // MARK: ExactlyOnceStore

    public func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob {
        for table in tables { try table.validate() }
        return try await transaction("recovery of job '\(job)'") { connection in
            try await self.prepareSchema(connection)
            for table in tables { try await self.prepareResultTable(table, connection) }
            return try await self.readJob(job, connection)
        }
    }

    public func claim(job: String, owner: JobOwner) async throws -> OwnerClaim {
        try await transaction("claim of job '\(job)'") { connection in
            try await self.prepareSchema(connection)
            let previous = try await self.query(
                "SELECT owner FROM sluice_owners WHERE job = $1 AND task = '' FOR UPDATE", [.text(job)], connection
            ).first?.decode(String.self)
            let epoch = try await self.query(
                "INSERT INTO sluice_owners(job, task, epoch, owner, claimed_at) VALUES ($1, '', 1, $2, $3) "
                    + "ON CONFLICT(job, task) DO UPDATE SET epoch = sluice_owners.epoch + 1, owner = excluded.owner, "
                    + "claimed_at = excluded.claimed_at RETURNING epoch",
                [.text(job), .text(owner.name), .integer(Self.now())], connection
            ).first?.decode(Int64.self)
            return OwnerClaim(epoch: epoch, previousOwner: previous)
        }
    }

    @discardableResult
    public func commit(_ commit: BatchCommit) async throws -> CommitOutcome {
        for write in commit.writes + commit.tasks.flatMap(\.writes) { try write.table.validate() }
        return try await transaction("commit of batch \(commit.batchTime) of job '\(commit.job)'") { connection in
            try await self.prepareSchema(connection)
            return try await self.write(commit, connection)
        }
    }

    public func claim(job: String, tasks: [TaskID], owner: JobOwner) async throws -> [TaskID: Int64] {
        try await transaction("claim of tasks of job '\(job)'") { connection in
            try await self.prepareSchema(connection)
            var epochs: [TaskID: Int64] = [:]
            for task in tasks {
                epochs[task] = try await self.query(
                    "INSERT INTO sluice_owners(job, task, epoch, owner, claimed_at) VALUES ($1, $2, 1, $3, $4) "
                        + "ON CONFLICT(job, task) DO UPDATE SET epoch = sluice_owners.epoch + 1, owner = excluded.owner, "
                        + "claimed_at = excluded.claimed_at RETURNING epoch",
                    [.text(job), .text(task.description), .text(owner.name), .integer(Self.now())], connection
                ).first?.decode(Int64.self)
            }
            return epochs
        }
    }

    public func recover(job: String, partitions: [TaskID], operators: [String]) async throws -> RecoveredJob {
        try await transaction("recovery of tasks of job '\(job)'") { connection in
            try await self.prepareSchema(connection)
            var offsets: [SourceOffset] = []
            for partition in partitions {
                if let next = try await self.query(
                    #"SELECT next_offset FROM sluice_offsets WHERE job = $1 AND topic = $2 AND "partition" = $3"#,
                    [.text(job), .text(partition.topic), .integer(Int64(partition.partition))], connection
                ).first?.decode(Int64.self) {
                    offsets.append(SourceOffset(topic: partition.topic, partition: partition.partition, offset: next))
                }
            }
            var recovered: [String: RecoveredOperatorState] = [:]
            for name in operators {
                guard let encoding = try await self.query(
                    #"SELECT encoding FROM sluice_state_encodings WHERE job = $1 AND "operator" = $2"#, [.text(job), .text(name)], connection
                ).first?.decode(String.self) else { continue }
                var entries: [EncodedStateEntry] = []
                for row in try await self.query(
                    #"SELECT "key", "value" FROM sluice_state WHERE job = $1 AND "operator" = $2 ORDER BY "key""#, [.text(job), .text(name)], connection
                ) {
                    let (key, value) = try row.decode((ByteBuffer, ByteBuffer).self)
                    entries.append(EncodedStateEntry(key: Array(key.readableBytesView), value: Array(value.readableBytesView)))
                }
                recovered[name] = RecoveredOperatorState(encoding: encoding, entries: entries)
            }
            let last = try await self.query("SELECT last_batch_time FROM sluice_jobs WHERE job = $1", [.text(job)], connection)
                .first?.decode(Int64.self)
            return RecoveredJob(lastBatchTime: last.map { Time(milliseconds: $0) }, offsets: offsets, operators: recovered)
        }
    }

    /// Deletes a job's offsets, state, dead letters and bookkeeping (not its
    /// result table): the next start begins from the source's start position.
    public func reset(job: String) async throws {
        try await transaction("reset of job '\(job)'") { connection in
            try await self.prepareSchema(connection)
            for table in PostgresSchema.jobTables {
                try await self.execute("DELETE FROM \(table) WHERE job = $1", [.text(job)], connection)
            }
        }
    }

    /// Runs `body` on the store's connection, between its transactions (for
    /// tests, tools and users' checks).
    public func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await exclusively {
            do {
                return try await body(try await connected())
            } catch {
                if PostgresFailure(error).isRetriable { await dropConnection() }
                throw error
            }
        }
    }

    // MARK: Transactions with retries

    /// Runs `body` inside BEGIN … COMMIT, repeating the whole transaction on
    /// a new connection when the connection is lost (bounded, with backoff).
    private func transaction<T: Sendable>(
        _ what: String, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await exclusively {
            var attempt = 0
            // The transaction whose COMMIT was sent but not answered.
            var unanswered: (id: Int64, result: T)?
            while true {
                attempt += 1
                var current: PostgresConnection?
                do {
                    let connection = try await connected()
                    current = connection
                    if let pending = unanswered {
                        switch try await transactionStatus(pending.id, connection) {
                        case "committed":
                            if schemaPreparedInTransaction { schemaReady = true }
                            logger.info("\(what): the commit whose answer was lost had committed")
                            return pending.result
                        case "in progress":
                            throw PostgresFailure(retriable: "the transaction whose COMMIT was lost is still in progress")
                        case "aborted":
                            unanswered = nil
                        default:
                            throw StreamingError(
                                code: .outputFailed,
                                message: "\(what): the connection to \(configuration.displayURL) dropped during COMMIT and the server "
                                    + "no longer knows whether transaction \(pending.id) committed; check the job's rows before restarting it")
                        }
                    }
                    schemaPreparedInTransaction = false
                    try await execute("BEGIN", [], connection)
                    let id = try await query("SELECT txid_current()", [], connection).first?.decode(Int64.self) ?? 0
                    let result = try await body(connection)
                    unanswered = (id, result)
                    if let fault = injectedFault {
                        injectedFault = nil
                        if fault == .answerLost { try await execute("COMMIT", [], connection) }
                        try? await connection.close()
                        throw PostgresFailure(retriable: "connection lost around COMMIT (injected by a test)")
                    }
                    try await execute("COMMIT", [], connection)
                    if schemaPreparedInTransaction { schemaReady = true }
                    return result
                } catch let error as StreamingError {
                    await rollBack(current)
                    throw error
                } catch {
                    let failure = error as? PostgresFailure ?? PostgresFailure(error)
                    guard failure.isRetriable else {
                        await rollBack(current)
                        throw StreamingError(
                            code: .outputFailed,
                            message: "\(what) failed in \(configuration.displayURL): \(failure.message)",
                            underlying: SendableError(failure.message))
                    }
                    await dropConnection()
                    guard attempt < configuration.attempts else {
                        throw StreamingError(
                            code: .io,
                            message: "\(what) failed \(attempt) times, the last because \(failure.message); "
                                + "is the PostgreSQL server at \(configuration.displayURL) running?",
                            underlying: SendableError(failure.message))
                    }
                    retries += 1
                    let wait = configuration.backoff(before: attempt + 1)
                    logger.warning("\(what) failed (\(failure.message)); attempt \(attempt + 1) of \(configuration.attempts) in \(wait)")
                    try await Task.sleep(for: wait)
                }
            }
        }
    }

    private func transactionStatus(_ id: Int64, _ connection: PostgresConnection) async throws -> String? {
        try await query("SELECT txid_status($1)", [.integer(id)], connection).first?.decode(String?.self)
    }

    /// Rolls back after a statement failed; a connection that cannot roll
    /// back is dropped.
    private func rollBack(_ connection: PostgresConnection?) async {
        guard let connection, !connection.isClosed else { return }
        do {
            try await execute("ROLLBACK", [], connection)
        } catch {
            await dropConnection()
        }
    }

    /// One operation at a time on the connection (an actor re-enters at
    /// every await).
    private func exclusively<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        while busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        return try await body()
    }

    private func connected() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        connectionCount += 1
        let new = try await PostgresConnection.connect(configuration: try configuration.connectionConfiguration(), id: connectionCount, logger: logger)
        if connectionCount > 1 { logger.info("reconnected to \(configuration.displayURL)") }
        connection = new
        return new
    }

    private func dropConnection() async {
        let dropped = connection
        connection = nil
        try? await dropped?.close()
    }

    // MARK: Statements

    private func execute(_ sql: String, _ values: [ResultValue], _ connection: PostgresConnection) async throws {
        var binds = PostgresBindings(capacity: values.count)
        for value in values { binds.append(value) }
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    private func execute(_ sql: String, binds: PostgresBindings, _ connection: PostgresConnection) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    private func query(_ sql: String, _ values: [ResultValue], _ connection: PostgresConnection) async throws -> [PostgresRow] {
        var binds = PostgresBindings(capacity: values.count)
        for value in values { binds.append(value) }
        return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
    }

    /// Runs `sql(rowsInChunk)` over `rows` in chunks that stay under the bind limit.
    private func executeChunked<Row>(
        _ rows: [Row], width: Int, _ connection: PostgresConnection,
        sql: (Int) -> String, bind: (Row, inout PostgresBindings) -> Void
    ) async throws {
        let perChunk = max(1, PostgresSchema.maximumBinds / max(1, width))
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perChunk)]
            var binds = PostgresBindings(capacity: chunk.count * width)
            for row in chunk { bind(row, &binds) }
            try await execute(sql(chunk.count), binds: binds, connection)
            start += chunk.count
        }
    }

    // MARK: Schema and recovery

    private func prepareSchema(_ connection: PostgresConnection) async throws {
        guard !schemaReady else { return }
        try await execute("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.schemaLockKey)], connection)
        for statement in PostgresSchema.bookkeeping {
            try await execute(statement, [], connection)
        }
        schemaPreparedInTransaction = true
    }

    private func prepareResultTable(_ table: ResultTable, _ connection: PostgresConnection) async throws {
        try await execute("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.schemaLockKey)], connection)
        let existing = try await query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            [.text(table.name)], connection
        ).map { try $0.decode(String.self) }
        guard existing.isEmpty else {
            let wanted = table.columns.map(\.name)
            guard existing == wanted else {
                throw StreamingError(
                    code: .invalidArgument,
                    message: "table '\(table.name)' exists with columns \(existing), but the job writes \(wanted); rename the table or drop it")
            }
            return
        }
        try await execute(PostgresSchema.createTable(table), [], connection)
    }

    private func readJob(_ job: String, _ connection: PostgresConnection) async throws -> RecoveredJob {
        let last = try await query("SELECT last_batch_time FROM sluice_jobs WHERE job = $1", [.text(job)], connection)
            .first?.decode(Int64.self)
        let offsets = try await query(
            #"SELECT topic, "partition", next_offset FROM sluice_offsets WHERE job = $1 ORDER BY topic, "partition""#,
            [.text(job)], connection
        ).map { row in
            let (topic, partition, offset) = try row.decode((String, Int32, Int64).self)
            return SourceOffset(topic: topic, partition: partition, offset: offset)
        }
        var operators: [String: RecoveredOperatorState] = [:]
        for row in try await query(#"SELECT "operator", encoding FROM sluice_state_encodings WHERE job = $1"#, [.text(job)], connection) {
            let (name, encoding) = try row.decode((String, String).self)
            operators[name] = RecoveredOperatorState(encoding: encoding, entries: [])
        }
        for row in try await query(
            #"SELECT "operator", "key", "value" FROM sluice_state WHERE job = $1 ORDER BY "operator", "key""#, [.text(job)], connection
        ) {
            let (name, key, value) = try row.decode((String, ByteBuffer, ByteBuffer).self)
            operators[name, default: RecoveredOperatorState(encoding: "", entries: [])].entries.append(
                EncodedStateEntry(key: Array(key.readableBytesView), value: Array(value.readableBytesView)))
        }
        return RecoveredJob(lastBatchTime: last.map { Time(milliseconds: $0) }, offsets: offsets, operators: operators)
    }

    // MARK: Commit

    private func write(_ commit: BatchCommit, _ connection: PostgresConnection) async throws -> CommitOutcome {
        if let epoch = commit.ownerEpoch, try await !holds(job: commit.job, task: "", epoch: epoch, connection) {
            let holder = try await query(
                "SELECT owner, epoch FROM sluice_owners WHERE job = $1 AND task = ''", [.text(commit.job)], connection
            ).first?.decode((String, Int64).self)
            throw StreamingError.fenced(
                job: commit.job, batchTime: commit.batchTime, epoch: epoch,
                currentOwner: holder?.0, currentEpoch: holder?.1)
        }
        try await write(
            job: commit.job, batchTime: commit.batchTime, writes: commit.writes, offsets: commit.offsets,
            stateChanges: commit.stateChanges, deadLetters: commit.deadLetters, connection)
        var fenced: [FencedTask] = []
        for section in commit.tasks {
            guard try await holds(job: commit.job, task: section.task.description, epoch: section.epoch, connection) else {
                let owner = try await query(
                    "SELECT owner FROM sluice_owners WHERE job = $1 AND task = $2", [.text(commit.job), .text(section.task.description)], connection
                ).first?.decode(String.self)
                fenced.append(FencedTask(task: section.task, owner: owner))
                continue
            }
            try await write(
                job: commit.job, batchTime: commit.batchTime, writes: section.writes, offsets: section.offsets,
                stateChanges: section.stateChanges, deadLetters: section.deadLetters, connection)
        }
        try await execute(
            "INSERT INTO sluice_jobs(job, last_batch_time, committed_at) VALUES ($1, $2, $3) "
                + "ON CONFLICT(job) DO UPDATE SET last_batch_time = excluded.last_batch_time, committed_at = excluded.committed_at",
            [.text(commit.job), .integer(commit.batchTime.milliseconds), .integer(Self.now())],
            connection)
        return CommitOutcome(fenced: fenced)
    }

    /// Whether `epoch` is still the owner epoch of the job's `task` (empty:
    /// the whole job). The owner row stays locked until COMMIT: a claim waits
    /// for this transaction, and one that committed first leaves no row to update.
    private func holds(job: String, task: String, epoch: Int64, _ connection: PostgresConnection) async throws -> Bool {
        try await !query(
            "UPDATE sluice_owners SET committed_at = $1 WHERE job = $2 AND task = $3 AND epoch = $4 RETURNING epoch",
            [.integer(Self.now()), .text(job), .text(task), .integer(epoch)], connection
        ).isEmpty
    }

    /// Writes one commit's (or one task section's) rows, offsets, state and dead letters.
    private func write(
        job: String, batchTime: Time, writes: [TableWrite], offsets: [SourceOffset],
        stateChanges: [OperatorStateChange], deadLetters: [DeadLetter], _ connection: PostgresConnection
    ) async throws {
        for write in writes {
            let table = write.table
            if case .replace = table.mode {
                try await execute("DELETE FROM \(PostgresSchema.quoted(table.name))", [], connection)
            }
            let rows = PostgresSchema.lastRowPerKey(write.rows, table: table)
            guard !rows.isEmpty else { continue }
            if let arrays = PostgresSchema.columnArrays(rows, table: table) {
                try await execute(PostgresSchema.insertColumnArrays(table), binds: arrays, connection)
            } else {
                try await executeChunked(
                    rows, width: table.columns.count, connection,
                    sql: { PostgresSchema.insertRows(table, rows: $0) },
                    bind: { row, binds in for value in row { binds.append(value) } })
            }
        }

        try await executeChunked(
            offsets, width: 4, connection,
            sql: {
                #"INSERT INTO sluice_offsets(job, topic, "partition", next_offset) VALUES "#
                    + PostgresSchema.valuesList(rows: $0, width: 4)
                    + #" ON CONFLICT(job, topic, "partition") DO UPDATE SET next_offset = excluded.next_offset"#
            },
            bind: { offset, binds in
                binds.append(job)
                binds.append(offset.topic)
                binds.append(offset.partition)
                binds.append(offset.offset)
            })

        for change in stateChanges {
            try await execute(
                #"INSERT INTO sluice_state_encodings(job, "operator", encoding) VALUES ($1, $2, $3) "#
                    + #"ON CONFLICT(job, "operator") DO UPDATE SET encoding = excluded.encoding"#,
                [.text(job), .text(change.name), .text(change.encoding)], connection)
            // A key both set and deleted in one delta: the delete wins, as in SQLiteStore (deletes run last).
            var upserts: [[UInt8]: [UInt8]] = [:]
            var order: [[UInt8]] = []
            for entry in change.delta.upserts {
                if upserts.updateValue(entry.value, forKey: entry.key) == nil { order.append(entry.key) }
            }
            if !order.isEmpty {
                var binds = PostgresBindings(capacity: 4)
                binds.append(job)
                binds.append(change.name)
                binds.append(order.map { ByteBuffer(bytes: $0) })
                binds.append(order.map { ByteBuffer(bytes: upserts[$0] ?? []) })
                try await execute(
                    #"INSERT INTO sluice_state(job, "operator", "key", "value") SELECT $1, $2, k, v FROM unnest($3::BYTEA[], $4::BYTEA[]) AS u(k, v) "#
                        + #"ON CONFLICT(job, "operator", "key") DO UPDATE SET "value" = excluded."value" WHERE sluice_state."value" <> excluded."value""#,
                    binds: binds, connection)
            }
            if !change.delta.deletes.isEmpty {
                var binds = PostgresBindings(capacity: 3)
                binds.append(job)
                binds.append(change.name)
                binds.append(change.delta.deletes.map { ByteBuffer(bytes: $0) })
                try await execute(#"DELETE FROM sluice_state WHERE job = $1 AND "operator" = $2 AND "key" = ANY($3::BYTEA[])"#,
                                  binds: binds, connection)
            }
        }

        var letters: [DeadLetter] = []
        var seen = Set<DeadLetterKey>()
        for letter in deadLetters.reversed() where seen.insert(DeadLetterKey(letter)).inserted {
            letters.append(letter)
        }
        try await executeChunked(
            letters.reversed(), width: 7, connection,
            sql: {
                #"INSERT INTO sluice_dead_letters(job, topic, "partition", "offset", batch_time, error, payload) VALUES "#
                    + PostgresSchema.valuesList(rows: $0, width: 7)
                    + #" ON CONFLICT(job, topic, "partition", "offset") DO UPDATE SET batch_time = excluded.batch_time, "#
                    + "error = excluded.error, payload = excluded.payload"
            },
            bind: { letter, binds in
                binds.append(job)
                binds.append(letter.topic)
                binds.append(letter.partition)
                binds.append(letter.offset)
                binds.append(batchTime.milliseconds)
                binds.append(letter.error)
                binds.append(bytes: letter.payload)
            })
    }

    /// Milliseconds since 1970, as the bookkeeping tables keep times.
    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A dead letter's position, its key in `sluice_dead_letters`.
private struct DeadLetterKey: Hashable {
    var topic: String
    var partition: Int32
    var offset: Int64
    init(_ letter: DeadLetter) {
        topic = letter.topic
        partition = letter.partition
        offset = letter.offset
    }
}

/// A failure's text as a Sendable underlying error.
struct SendableError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension PostgresFailure {
    init(retriable message: String) {
        self.init(SendableError(message))
        self.message = message
        isRetriable = true
    }
}
