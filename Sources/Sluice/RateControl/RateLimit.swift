/// Turns rates into per-partition record caps for one batch — Spark's
/// `DirectKafkaInputDStream.maxMessagesPerPartition`, as a pure function any
/// source with partitions can use.
public enum RateLimit {
    /// The most records each partition may contribute to a batch, or nil for
    /// no limit.
    ///
    /// With an estimated rate (backpressure), the rate is shared among the
    /// partitions in proportion to their lag and capped by
    /// `maxRatePerPartition` (if > 0); without one, every partition gets
    /// `maxRatePerPartition`. The cap is `rate · interval` (truncated) but at
    /// least `minRecordsPerPartition`. Returns nil when neither limit applies.
    ///
    /// - Parameters:
    ///   - lag: records available per partition (end of log − next offset).
    ///   - estimatedRate: records/s for the whole input from backpressure, if any (≤ 0 means none).
    ///   - maxRatePerPartition: records/s per partition; ≤ 0 means unlimited.
    ///   - batchInterval: the batch interval.
    ///   - minRecordsPerPartition: floor per partition. Default: 1 (Spark's `minRatePerPartition`).
    public static func maxRecordsPerPartition<Key: Hashable>(
        lag: [Key: Int64],
        estimatedRate: Double?,
        maxRatePerPartition: Double,
        batchInterval: Duration,
        minRecordsPerPartition: Int64 = 1
    ) -> [Key: Int64]? {
        let ratePerPartition: [Key: Double]
        if let rate = estimatedRate, rate > 0 {
            let lagPerPartition = lag.mapValues { max($0, 0) }
            let totalLag = Double(lagPerPartition.values.reduce(0, +))
            ratePerPartition = lagPerPartition.mapValues { partitionLag in
                // No lag anywhere: Spark's NaN shares make the sum fail the `> 0` test, i.e. no limit; same here.
                let share = totalLag > 0 ? Double(partitionLag) / totalLag * rate : 0
                return maxRatePerPartition > 0 ? min(share, maxRatePerPartition) : share
            }
        } else {
            ratePerPartition = lag.mapValues { _ in maxRatePerPartition }
        }
        guard ratePerPartition.values.reduce(0, +) > 0 else { return nil }
        let seconds = Double(batchInterval.wholeMilliseconds) / 1000
        return ratePerPartition.mapValues { rate in
            max(Int64(rate * seconds), minRecordsPerPartition)
        }
    }
}
