import Foundation
import XCTest
@testable import SluiceWorkloads

final class WorkloadTests: XCTestCase {
    func testSameSeedGivesSameRecords() {
        for format in WorkloadFormat.allCases {
            var a = Workload(format: format, seed: 42)
            var b = Workload(format: format, seed: 42)
            var c = Workload(format: format, seed: 43)
            let first = (0..<500).compactMap { _ in a.next() }
            XCTAssertEqual(first, (0..<500).compactMap { _ in b.next() }, "\(format)")
            XCTAssertNotEqual(first, (0..<500).compactMap { _ in c.next() }, "\(format)")
        }
    }

    func testWordLinesHaveFiveToFifteenWordsFromTheVocabulary() {
        let vocabulary = Set(Vocabulary(size: 10_000, seed: 7).words)
        XCTAssertEqual(vocabulary.count, 10_000)
        var workload = Workload(format: .words, seed: 7)
        for _ in 0..<2_000 {
            guard let record = workload.next() else { return XCTFail("workload ended") }
            let words = record.value.split(separator: " ")
            XCTAssertTrue((5...15).contains(words.count), record.value)
            for word in words { XCTAssertTrue(vocabulary.contains(String(word)), String(word)) }
        }
    }

    func testZipfFrequenciesFollowOneOverRank() {
        let zipf = ZipfDistribution(count: 1_000)
        var random = SeededGenerator(seed: 1)
        var counts = [Int](repeating: 0, count: 1_000)
        let draws = 200_000
        for _ in 0..<draws { counts[zipf.sample(&random)] += 1 }
        // Expected share of rank r is (1/r) / H(1000), H(1000) ≈ 7.4855.
        let harmonic = (1...1_000).reduce(0.0) { $0 + 1.0 / Double($1) }
        for rank in [1, 2, 3, 10] {
            let expected = Double(draws) / Double(rank) / harmonic
            XCTAssertEqual(Double(counts[rank - 1]), expected, accuracy: expected * 0.05, "rank \(rank)")
        }
    }

    func testAccessLogLinesAreCombinedFormatWithTheRightDate() throws {
        var workload = Workload(format: .accessLog, seed: 3, baseTimestampMilliseconds: 1_767_225_600_000)
        let pattern = try NSRegularExpression(pattern: #"^(\d+\.\d+\.\d+\.\d+) - - \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] "(GET|POST|PUT|DELETE) \S+ HTTP/1\.1" \d{3} \d+ "-" "[^"]+"$"#)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        for index in 0..<1_000 {
            guard let record = workload.next() else { return XCTFail("workload ended") }
            let line = record.value
            let match = try XCTUnwrap(pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), line)
            XCTAssertEqual(record.key, String(line[try XCTUnwrap(Range(match.range(at: 1), in: line))]))
            let stamp = String(line[try XCTUnwrap(Range(match.range(at: 2), in: line))])
            let expected = Date(timeIntervalSince1970: (1_767_225_600_000 + Double(index) * 10) / 1000)
            XCTAssertEqual(stamp, formatter.string(from: expected))
        }
    }

    func testCivilTimeMatchesFoundationAcrossLeapYears() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var random = SeededGenerator(seed: 9)
        for _ in 0..<2_000 {
            let ms = Int64(random.below(4_102_444_800)) * 1000  // 1970…2100
            let civil = CivilTime(millisecondsSinceEpoch: ms)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(ms) / 1000))
            XCTAssertEqual([civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second],
                           [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second].map { $0 ?? -1 }, "\(ms)")
        }
    }

    func testUserEventsAreJSONKeyedByUser() throws {
        var workload = Workload(format: .userEvents, seed: 5)
        for _ in 0..<1_000 {
            guard let record = workload.next() else { return XCTFail("workload ended") }
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(record.value.utf8)) as? [String: Any], record.value)
            XCTAssertEqual(object["user"] as? String, record.key)
            XCTAssertNotNil(object["event"] as? String)
            XCTAssertNotNil(object["ts"] as? Int)
        }
    }
}
