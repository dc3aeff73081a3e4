import Logging
import PostgresNIO
import SluicePostgres
import SluicePostgresTesting
import XCTest

/// The process's throwaway PostgreSQL server, running (a test that stopped
/// it and failed before starting it again does not spoil the next ones).
func runningPostgresServer() throws -> PostgresTestServer {
    let server = try PostgresTestServer.shared()
    try server.ensureRunning()
    return server
}

let testLogger = Logger(label: "sluice.postgres.tests")

extension PostgresStore {
    /// Runs a query through the store's connection and decodes every row with `decode`.
    func rows<T: Sendable>(_ sql: String, _ decode: @escaping @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        try await withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger).collect().map(decode)
        }
    }

    /// `word -> count` of a word-count table.
    func counts(table: String = "word_counts") async throws -> [String: Int64] {
        let pairs = try await rows("SELECT word, count FROM \(table)") { try $0.decode((String, Int64).self) }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }
}
