import SluiceKafka

/// Consecutive records of one partition, offsets increasing: a range of a
/// poll's ``KafkaRecordBatch``. The direct stream holds fetched records and
/// hands them to batches as segments, so no record is copied or built
/// before an operator reads it.
struct RecordSegment: Sendable {
    let batch: KafkaRecordBatch
    let range: Range<Int>

    var count: Int { range.count }
    var firstOffset: Int64 { batch.offset(at: range.lowerBound) }
    var lastOffset: Int64 { batch.offset(at: range.upperBound - 1) }

    /// The index of the first record whose offset is at least `offset`
    /// (`range.upperBound` when there is none).
    func firstIndex(atOrAfter offset: Int64) -> Int {
        var low = range.lowerBound
        var high = range.upperBound
        while low < high {
            let middle = (low + high) / 2
            if batch.offset(at: middle) < offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The part of the segment in `indices` (nil when empty).
    func slice(_ indices: Range<Int>) -> RecordSegment? {
        let clamped = indices.clamped(to: range)
        return clamped.isEmpty ? nil : RecordSegment(batch: batch, range: clamped)
    }

    func forEach(_ body: (KafkaRecord) -> Void) {
        for index in range { body(batch[index]) }
    }
}
