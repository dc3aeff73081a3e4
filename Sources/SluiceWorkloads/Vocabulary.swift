/// A deterministic vocabulary of distinct lowercase words made of syllables,
/// so generated text looks like text and never depends on a word list file.
public struct Vocabulary: Sendable {
    public let words: [String]

    private static let onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "st", "tr", "ch", "sh"]
    private static let vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]

    /// `size` distinct words drawn with `seed`.
    public init(size: Int, seed: UInt64) {
        var random = SeededGenerator(seed: seed ^ 0x5EED_0F_57AB1E)
        var seen = Set<String>()
        var words: [String] = []
        words.reserveCapacity(size)
        while words.count < size {
            let syllables = 1 + random.below(3)
            var word = ""
            for _ in 0..<syllables {
                word += Self.onsets[random.below(Self.onsets.count)]
                word += Self.vowels[random.below(Self.vowels.count)]
            }
            if random.below(3) == 0 { word += ["n", "s", "t", "r", "l"][random.below(5)] }
            if seen.insert(word).inserted { words.append(word) }
        }
        self.words = words
    }
}
