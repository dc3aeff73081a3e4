import Foundation
@testable import Sluice
import Testing

/// countTokens keeps one table per counting thread, not one per partition:
/// a thread gets back the table it started, concurrent threads get tables of
/// their own, and every table made is handed to the merge.
@Suite struct PerThreadTokenTablesTests {
    @Test func aThreadKeepsItsTable() {
        let tables = PerThreadTokenTables()
        let first = tables.current()
        #expect(tables.current() === first)
        #expect(tables.tables.count == 1)
    }

    @Test func concurrentThreadsCountIntoTablesOfTheirOwn() throws {
        let tables = PerThreadTokenTables()
        let threadCount = 4
        // Every thread holds its table until all have one, so no two share
        // a thread id (a finished thread's id may be reused).
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        let seen = Locked<[ObjectIdentifier]>([])
        for index in 0..<threadCount {
            finished.enter()
            Thread {
                let table = tables.current()
                let line = Array("t\(index) shared".utf8)
                line.withUnsafeBytes { table.countTokens(in: $0, separator: UInt8(ascii: " ")) }
                #expect(tables.current() === table)
                seen.withLock { $0.append(ObjectIdentifier(table)) }
                holding.signal()
                release.wait()
                finished.leave()
            }.start()
        }
        for _ in 0..<threadCount { #expect(holding.wait(timeout: .now() + 30) == .success) }
        for _ in 0..<threadCount { release.signal() }
        #expect(finished.wait(timeout: .now() + 30) == .success)

        #expect(Set(seen.value).count == threadCount)
        #expect(Set(tables.tables.map(ObjectIdentifier.init)) == Set(seen.value))
        var counts: [String: Int] = [:]
        for table in tables.tables {
            for (token, count) in table.entries() { counts[String(decoding: token.bytes, as: UTF8.self), default: 0] += count }
        }
        var expected = ["shared": threadCount]
        for index in 0..<threadCount { expected["t\(index)"] = 1 }
        #expect(counts == expected)
    }
}
