import Sluice
import SluiceTesting
import Testing

/// Windows over elements that are not `Codable` keep their batches in
/// memory only, so an exactly-once output over one would lose the window's
/// contents before a restart: it must refuse them at registration, naming
/// the operator, while stored windows (`Codable` elements, incremental
/// reductions) pass that check.
@Suite struct ExactlyOnceWindowTests {
    /// A store that must never be reached: the checks come first.
    struct UnreachableStore: ExactlyOnceStore {
        var description: String { "unreachable" }
        func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob {
            Issue.record("recover should not be called")
            return .empty
        }
        func claim(job: String, owner: JobOwner) async throws -> OwnerClaim {
            Issue.record("claim should not be called")
            return OwnerClaim(epoch: nil, previousOwner: nil)
        }
        func commit(_ commit: BatchCommit) async throws -> CommitOutcome {
            Issue.record("commit should not be called")
            return CommitOutcome()
        }
        func reset(job: String) async throws {}
    }

    static let table = ResultTable(
        name: "t", columns: [ResultColumn("value", .integer)], mode: .append)

    /// A value a window cannot store.
    struct Opaque: Sendable {
        var value: Int
    }

    /// The error of registering an exactly-once output over `make`'s stream.
    func registrationError(_ make: (DStream<Int>) -> DStream<Int>) async throws -> StreamingError? {
        let driver = try StreamTestDriver()
        let stream = make(driver.context.queueStream([[1, 2], [3]]))
        do {
            try await stream.saveExactlyOnce(to: UnreachableStore(), job: "j", table: Self.table) { [.integer(Int64($0))] }
        } catch let error as StreamingError {
            return error
        }
        return nil
    }

    @Test func windowsOfValuesThatAreNotCodableAreRefusedNamingTheOperator() async throws {
        let cases: [(String, (DStream<Int>) -> DStream<Int>)] = [
            ("window", { $0.map { Opaque(value: $0) }.window(.seconds(2)).map(\.value) }),
            ("reduceByWindow", { $0.map { Opaque(value: $0) }.reduceByWindow({ Opaque(value: $0.value + $1.value) }, .seconds(2)).map(\.value) }),
            ("groupByKeyAndWindow", { $0.map { ($0 % 2, Opaque(value: $0)) }.groupByKeyAndWindow(.seconds(2)).map { $0.1.count } }),
            ("window", { $0.map { Opaque(value: $0 * 2) }.window(.seconds(4), slide: .seconds(2)).count() }),
        ]
        for (name, make) in cases {
            let error = try await registrationError(make)
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("reads \(name) over elements that are not Codable") == true, "\(name): \(error?.message ?? "no error")")
            #expect(error?.message.contains("inverse") == true)
        }
    }

    @Test func storedWindowsPassTheWindowCheck() async throws {
        let cases: [(DStream<Int>) -> DStream<Int>] = [
            { $0.window(.seconds(2)) },
            { $0.reduceByWindow(+, .seconds(2)) },
            { $0.map { ($0 % 2, $0) }.groupByKeyAndWindow(.seconds(2)).map { $0.1.count } },
            { $0.map { $0 * 2 }.window(.seconds(4), slide: .seconds(2)).count() },
            { $0.reduceByWindow(+, inverse: -, .seconds(2)) },
            { $0.countByWindow(.seconds(2)) },
            { $0.map { ($0 % 2, $0) }.reduceByKeyAndWindow(max, .seconds(2)).map { $0.1 } },
            { $0.countByValueAndWindow(.seconds(2)).map { $0.1 } },
        ]
        for make in cases {
            // The queue stream cannot replay: that is the error left.
            let error = try await registrationError(make)
            #expect(error?.message.contains("cannot replay") == true, "\(error?.message ?? "no error")")
        }
    }
}
