/// A synthetic record: an optional key and a UTF-8 line.
public struct GeneratedRecord: Hashable, Sendable {
    public var key: String?
    public var value: String
    public init(key: String?, value: String) {
        self.key = key
        self.value = value
    }
}

/// The kinds of synthetic load `sluice produce` can send.
public enum WorkloadFormat: String, Sendable, CaseIterable {
    /// Lines of 5–15 words from a 10,000-word Zipf vocabulary (word count input).
    case words
    /// Apache combined-format access log lines, keyed by client address.
    case accessLog = "access-log"
    /// JSON user-behaviour events (view, click, add-to-cart, purchase), keyed by user.
    case userEvents = "user-events"
}

/// A deterministic stream of records: the same format and seed give the
/// same records in the same order.
public struct Workload: Sendable, IteratorProtocol {
    public let format: WorkloadFormat
    private var random: SeededGenerator
    private var index: Int = 0
    private let words: WordsShape
    private let base: Int64

    /// - Parameters:
    ///   - baseTimestampMilliseconds: the time embedded in the first record
    ///     (access logs and events); later ones advance deterministically.
    public init(format: WorkloadFormat, seed: UInt64, vocabularySize: Int = 10_000, baseTimestampMilliseconds: Int64 = 1_767_225_600_000) {
        self.format = format
        self.random = SeededGenerator(seed: seed)
        self.words = WordsShape(vocabulary: Vocabulary(size: vocabularySize, seed: seed))
        self.base = baseTimestampMilliseconds
    }

    public mutating func next() -> GeneratedRecord? {
        defer { index += 1 }
        switch format {
        case .words:
            return GeneratedRecord(key: nil, value: words.line(&random))
        case .accessLog:
            return AccessLogShape.record(index: index, base: base, random: &random)
        case .userEvents:
            return UserEventShape.record(index: index, base: base, random: &random)
        }
    }
}

/// Word-count lines: 5–15 Zipf-distributed words joined by spaces.
struct WordsShape: Sendable {
    let vocabulary: Vocabulary
    let zipf: ZipfDistribution

    init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        self.zipf = ZipfDistribution(count: vocabulary.words.count)
    }

    func line(_ random: inout SeededGenerator) -> String {
        let count = 5 + random.below(11)
        var line = ""
        for position in 0..<count {
            if position > 0 { line += " " }
            line += vocabulary.words[zipf.sample(&random)]
        }
        return line
    }
}
