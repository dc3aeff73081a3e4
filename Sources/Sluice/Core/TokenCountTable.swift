#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts tokens of byte lines in an open-addressing hash table keyed by the
/// token bytes (FNV-1a hash, linear probing, keys copied once into an arena).
/// The inner loop of a word count: no String, no `Hasher`, no reference
/// counting per token. One table per partition; not thread-safe.
final class TokenCountTable {
    private var capacity: Int
    private var mask: Int
    private var used = 0
    private var hashes: UnsafeMutablePointer<UInt64>
    private var offsets: UnsafeMutablePointer<Int>
    private var lengths: UnsafeMutablePointer<Int>
    private var counts: UnsafeMutablePointer<Int>
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaUsed = 0

    init(capacity initial: Int = 1 << 12) {
        capacity = initial
        mask = initial - 1
        hashes = .allocate(capacity: initial)
        hashes.initialize(repeating: 0, count: initial)
        offsets = .allocate(capacity: initial)
        lengths = .allocate(capacity: initial)
        counts = .allocate(capacity: initial)
        arenaCapacity = 1 << 16
        arena = .allocate(capacity: arenaCapacity)
    }

    deinit {
        hashes.deallocate()
        offsets.deallocate()
        lengths.deallocate()
        counts.deallocate()
        arena.deallocate()
    }

    /// Adds every non-empty run of `line` between `separator` bytes.
    func countTokens(in line: UnsafeRawBufferPointer, separator: UInt8) {
        guard let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let end = line.count
        var index = 0
        while index < end {
            while index < end && base[index] == separator { index += 1 }
            if index >= end { break }
            let start = index
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            while index < end {
                let byte = base[index]
                if byte == separator { break }
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                index += 1
            }
            add(base + start, length: index - start, hash: hash | 1)
        }
    }

    @inline(__always)
    private func add(_ key: UnsafePointer<UInt8>, length: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        while true {
            let stored = hashes[slot]
            if stored == 0 {
                insert(key, length: length, hash: hash, at: slot)
                return
            }
            if stored == hash && lengths[slot] == length && memcmp(arena + offsets[slot], key, length) == 0 {
                counts[slot] += 1
                return
            }
            slot = (slot + 1) & mask
        }
    }

    private func insert(_ key: UnsafePointer<UInt8>, length: Int, hash: UInt64, at slot: Int) {
        if arenaUsed + length > arenaCapacity {
            var grown = arenaCapacity * 2
            while arenaUsed + length > grown { grown *= 2 }
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            bigger.update(from: arena, count: arenaUsed)
            arena.deallocate()
            arena = bigger
            arenaCapacity = grown
        }
        (arena + arenaUsed).update(from: key, count: length)
        hashes[slot] = hash
        offsets[slot] = arenaUsed
        lengths[slot] = length
        counts[slot] = 1
        arenaUsed += length
        used += 1
        if used * 2 > capacity { grow() }
    }

    private func grow() {
        let oldCapacity = capacity
        let oldHashes = hashes, oldOffsets = offsets, oldLengths = lengths, oldCounts = counts
        capacity *= 2
        mask = capacity - 1
        hashes = .allocate(capacity: capacity)
        hashes.initialize(repeating: 0, count: capacity)
        offsets = .allocate(capacity: capacity)
        lengths = .allocate(capacity: capacity)
        counts = .allocate(capacity: capacity)
        for old in 0..<oldCapacity where oldHashes[old] != 0 {
            let hash = oldHashes[old]
            var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
            while hashes[slot] != 0 { slot = (slot + 1) & mask }
            hashes[slot] = hash
            offsets[slot] = oldOffsets[old]
            lengths[slot] = oldLengths[old]
            counts[slot] = oldCounts[old]
        }
        oldHashes.deallocate()
        oldOffsets.deallocate()
        oldLengths.deallocate()
        oldCounts.deallocate()
    }

    /// Every distinct token with its count (keys share one copied buffer).
    func entries() -> [(ByteString, Int)] {
        let keys = Array(UnsafeBufferPointer(start: arena, count: arenaUsed))
        var result: [(ByteString, Int)] = []
        result.reserveCapacity(used)
        for slot in 0..<capacity where hashes[slot] != 0 {
            let start = offsets[slot]
            result.append((ByteString(keys[start..<(start + lengths[slot])]), counts[slot]))
        }
        return result
    }
}
