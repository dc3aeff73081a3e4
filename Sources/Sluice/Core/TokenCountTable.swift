#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts tokens of byte lines in an open-addressing hash table keyed by the
/// token bytes. The inner loop of a word count: no String, no `Hasher`, no
/// reference counting per token. One table per partition; not thread-safe.
///
/// Lines are read eight bytes at a time: one load finds the next separator
/// in the word (a SWAR zero-byte test) and feeds the hash in one multiply.
/// A slot keeps the token's first eight bytes beside its hash, so a token of
/// up to eight bytes is found without a `memcmp` or a visit to the arena
/// that holds every key's bytes. The hash is seeded per process, so crafted
/// input cannot pick its collisions.
///
/// Tables of one process hash alike, so partial tables merge slot by slot
/// (``merged(_:partitionCount:)``) without hashing a token again.
/// Unchecked `Sendable`: a table is written by one thread at a time and
/// only read once it is handed on.
final class TokenCountTable: @unchecked Sendable {
    /// One slot: all a probe reads is in one place.
    private struct Slot {
        /// 0 for an empty slot (stored hashes have their low bit set).
        var hash: UInt64
        /// The token's first (up to) eight bytes, little-endian, zero padded.
        var prefix: UInt64
        /// Where the token's bytes start in the arena.
        var offset: Int
        var length: Int
        var count: Int
    }

    private static let seed = UInt64.random(in: 1...UInt64.max)
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    private var capacity: Int
    private var mask: Int
    /// 64 − log2(capacity): a slot is the hash's top bits.
    private var shift: UInt64
    private var used = 0
    private var slots: UnsafeMutablePointer<Slot>
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaUsed = 0

    init(capacity initial: Int = 1 << 12) {
        precondition(initial >= 2 && initial & (initial - 1) == 0, "TokenCountTable capacity must be a power of two")
        capacity = initial
        mask = initial - 1
        shift = UInt64(64 - initial.trailingZeroBitCount)
        slots = Self.emptySlots(initial)
        arenaCapacity = 1 << 16
        arena = .allocate(capacity: arenaCapacity)
    }

    deinit {
        slots.deallocate()
        arena.deallocate()
    }

    private static func emptySlots(_ count: Int) -> UnsafeMutablePointer<Slot> {
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: count)
        slots.initialize(repeating: Slot(hash: 0, prefix: 0, offset: 0, length: 0, count: 0), count: count)
        return slots
    }

    /// Adds every non-empty run of `line` between `separator` bytes.
    func countTokens(in line: UnsafeRawBufferPointer, separator: UInt8) {
        guard let base = line.baseAddress else { return }
        let end = line.count
        let separators = UInt64(separator) &* Self.ones
        var index = 0
        while index < end {
            if base.load(fromByteOffset: index, as: UInt8.self) == separator {
                index += 1
                continue
            }
            let start = index
            var hash = Self.seed
            var prefix: UInt64 = 0
            var isFirstChunk = true
            while index < end {
                let remaining = end - index
                var chunk = remaining >= 8
                    ? UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    : Self.partialChunk(base + index, count: remaining)
                // The first separator's byte: the lowest zero byte of chunk ^ separators.
                let difference = chunk ^ separators
                let zeroBytes = (difference &- Self.ones) & ~difference & Self.highBits
                let taken = min(remaining, zeroBytes == 0 ? 8 : zeroBytes.trailingZeroBitCount >> 3)
                if taken == 0 { break }
                if taken < 8 { chunk &= ~0 &>> UInt64(64 - 8 * taken) }
                if isFirstChunk {
                    prefix = chunk
                    isFirstChunk = false
                }
                hash = (hash ^ chunk) &* Self.multiplier
                hash ^= hash >> 29
                index += taken
                if taken < 8 { break }
            }
            let length = index - start
            hash = ((hash ^ UInt64(length)) &* Self.multiplier) | 1
            add(base.assumingMemoryBound(to: UInt8.self) + start, length: length, hash: hash, prefix: prefix, count: 1)
        }
    }

    /// The last `count` (< 8) bytes of a line, zero padded: a full load
    /// could read past the buffer.
    @inline(__always)
    private static func partialChunk(_ bytes: UnsafeRawPointer, count: Int) -> UInt64 {
        var chunk: UInt64 = 0
        withUnsafeMutableBytes(of: &chunk) { $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: count)) }
        return UInt64(littleEndian: chunk)
    }

    @inline(__always)
    private func add(_ key: UnsafePointer<UInt8>, length: Int, hash: UInt64, prefix: UInt64, count: Int) {
        var slot = Int(truncatingIfNeeded: hash &>> shift)
        while true {
            let stored = slots + slot
            if stored.pointee.hash == 0 {
                insert(key, length: length, hash: hash, prefix: prefix, count: count, at: slot)
                return
            }
            if stored.pointee.hash == hash && stored.pointee.prefix == prefix && stored.pointee.length == length
                && (length <= 8 || memcmp(arena + stored.pointee.offset + 8, key + 8, length - 8) == 0) {
                stored.pointee.count += count
                return
            }
            slot = (slot + 1) & mask
        }
    }

    private func insert(_ key: UnsafePointer<UInt8>, length: Int, hash: UInt64, prefix: UInt64, count: Int, at slot: Int) {
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
        slots[slot] = Slot(hash: hash, prefix: prefix, offset: arenaUsed, length: length, count: count)
        arenaUsed += length
        used += 1
        if used * 2 > capacity { grow() }
    }

    private func grow() {
        let old = slots
        let oldCapacity = capacity
        capacity *= 2
        mask = capacity - 1
        shift -= 1
        slots = Self.emptySlots(capacity)
        for index in 0..<oldCapacity where old[index].hash != 0 {
            var slot = Int(truncatingIfNeeded: old[index].hash &>> shift)
            while slots[slot].hash != 0 { slot = (slot + 1) & mask }
            slots[slot] = old[index]
        }
        old.deallocate()
    }

    /// Which of `partitionCount` output partitions a token of this hash goes to.
    @inline(__always)
    private static func part(of hash: UInt64, among partitionCount: Int) -> Int {
        Int(truncatingIfNeeded: (hash >> 1) % UInt64(partitionCount))
    }

    /// Adds the counts of `other`'s tokens that go to output partition `part`.
    private func add(from other: TokenCountTable, part: Int, of partitionCount: Int) {
        for index in 0..<other.capacity {
            let slot = other.slots[index]
            guard slot.hash != 0, Self.part(of: slot.hash, among: partitionCount) == part else { continue }
            add(other.arena + slot.offset, length: slot.length, hash: slot.hash, prefix: slot.prefix, count: slot.count)
        }
    }

    /// The tokens of `tables` with their counts summed, hash-partitioned
    /// into `partitionCount` partitions (merged in parallel, one per
    /// partition). The tables are only read.
    static func merged(_ tables: [TokenCountTable], partitionCount: Int) async -> Batch<(ByteString, Int)> {
        let count = max(1, partitionCount)
        let parts = await Parallel.map(Array(0..<count)) { part -> Partition<(ByteString, Int)> in
            let merged = TokenCountTable()
            for table in tables { merged.add(from: table, part: part, of: count) }
            return Partition(merged.entries())
        }
        return Batch(partitions: parts)
    }

    /// Every distinct token with its count (keys share one copied buffer).
    func entries() -> [(ByteString, Int)] {
        let keys = Array(UnsafeBufferPointer(start: arena, count: arenaUsed))
        var result: [(ByteString, Int)] = []
        result.reserveCapacity(used)
        for index in 0..<capacity where slots[index].hash != 0 {
            let slot = slots[index]
            result.append((ByteString(keys[slot.offset..<(slot.offset + slot.length)]), slot.count))
        }
        return result
    }
}
