import Sluice
import Testing

/// Values worked out by hand from Spark's PIDRateEstimator formula:
/// processingRate = elements / processingDelay · 1000,
/// error = latestRate − processingRate,
/// historicalError = schedulingDelay · processingRate / interval,
/// newRate = max(latestRate − p·error − i·historicalError − d·dError, minRate).
@Suite struct RateControlTests {
    @Test func pidEstimatorWithSparkDefaults() throws {
        var estimator = try PIDRateEstimator(batchInterval: .seconds(1))
        // First batch seeds latestRate = 1000/500·1000 = 2000 and returns nothing.
        #expect(estimator.compute(time: 1000, elements: 1000, processingDelay: 500, schedulingDelay: 0) == nil)
        // 1250/s: error 750, historical 300·1250/1000 = 375 → 2000 − 750 − 75 = 1175.
        #expect(estimator.compute(time: 2000, elements: 1000, processingDelay: 800, schedulingDelay: 300) == 1175)
        // 500/s: error 675, historical 500 → 1175 − 675 − 100 = 400.
        #expect(estimator.compute(time: 3000, elements: 500, processingDelay: 1000, schedulingDelay: 1000) == 400)
        // 10/s: error 390, historical 50 → 0, floored at minRate 100.
        #expect(estimator.compute(time: 4000, elements: 10, processingDelay: 1000, schedulingDelay: 5000) == 100)
    }

    @Test func pidEstimatorIgnoresUselessBatches() throws {
        var estimator = try PIDRateEstimator(batchInterval: .seconds(1))
        #expect(estimator.compute(time: 1000, elements: 0, processingDelay: 500, schedulingDelay: 0) == nil)
        #expect(estimator.compute(time: 1000, elements: 10, processingDelay: 0, schedulingDelay: 0) == nil)
        #expect(estimator.compute(time: 1000, elements: 1000, processingDelay: 500, schedulingDelay: 0) == nil)
        // Not newer than the last update.
        #expect(estimator.compute(time: 1000, elements: 1000, processingDelay: 800, schedulingDelay: 0) == nil)
        #expect(estimator.compute(time: 500, elements: 1000, processingDelay: 800, schedulingDelay: 0) == nil)
        #expect(estimator.compute(time: 2000, elements: 1000, processingDelay: 800, schedulingDelay: 300) == 1175)
    }

    @Test func pidEstimatorDerivativeTerm() throws {
        var estimator = try PIDRateEstimator(batchInterval: .seconds(1), parameters: .init(derivative: 0.5))
        _ = estimator.compute(time: 1000, elements: 1000, processingDelay: 500, schedulingDelay: 0)
        // dError = (750 − 0) / 1 s = 750 → 2000 − 750 − 75 − 375 = 800.
        #expect(estimator.compute(time: 2000, elements: 1000, processingDelay: 800, schedulingDelay: 300) == 800)
        // Two seconds later: 1000/s, error −200, historical 0, dError (−200 − 750)/2 = −475 → 800 + 200 + 237.5 = 1237.5.
        #expect(estimator.compute(time: 4000, elements: 1000, processingDelay: 1000, schedulingDelay: 0) == 1237.5)
    }

    @Test func pidEstimatorRejectsBadParameters() {
        #expect(throws: StreamingError.self) { try PIDRateEstimator(batchInterval: .zero) }
        #expect(throws: StreamingError.self) { try PIDRateEstimator(batchInterval: .seconds(1), parameters: .init(proportional: -1)) }
        #expect(throws: StreamingError.self) { try PIDRateEstimator(batchInterval: .seconds(1), parameters: .init(minRate: 0)) }
    }

    @Test func maxRecordsWithoutBackpressureUsesTheCap() {
        let caps = RateLimit.maxRecordsPerPartition(
            lag: ["a": 10, "b": 1_000_000], estimatedRate: nil, maxRatePerPartition: 50, batchInterval: .seconds(2))
        #expect(caps == ["a": 100, "b": 100])
        #expect(RateLimit.maxRecordsPerPartition(
            lag: ["a": 10], estimatedRate: nil, maxRatePerPartition: 0, batchInterval: .seconds(1)) == nil)
    }

    @Test func maxRecordsSharesTheEstimatedRateByLag() {
        // 400/s over lags 100 and 300 → 100 and 300 per second.
        #expect(RateLimit.maxRecordsPerPartition(
            lag: ["a": 100, "b": 300], estimatedRate: 400, maxRatePerPartition: 0, batchInterval: .seconds(1))
            == ["a": 100, "b": 300])
        // Capped by maxRatePerPartition 200, over half a second.
        #expect(RateLimit.maxRecordsPerPartition(
            lag: ["a": 100, "b": 300], estimatedRate: 400, maxRatePerPartition: 200, batchInterval: .milliseconds(500))
            == ["a": 50, "b": 100])
        // Never below one record per partition.
        #expect(RateLimit.maxRecordsPerPartition(
            lag: ["a": 1, "b": 1], estimatedRate: 1, maxRatePerPartition: 0, batchInterval: .seconds(1))
            == ["a": 1, "b": 1])
        // No lag anywhere: no limit.
        #expect(RateLimit.maxRecordsPerPartition(
            lag: ["a": 0], estimatedRate: 500, maxRatePerPartition: 0, batchInterval: .seconds(1)) == nil)
    }

    @Test func offsetRangeArithmetic() {
        let range = OffsetRange(topic: "t", partition: 3, from: 10, until: 15)
        #expect(range.count == 5)
        #expect(range.nextOffsetToCommit == 15)
        #expect(OffsetRange(topic: "t", partition: 0, from: 7, until: 7).count == 0)
        #expect(range.description == "t-3 [10, 15)")
    }
}
