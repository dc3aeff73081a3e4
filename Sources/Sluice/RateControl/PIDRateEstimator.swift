/// Spark's `PIDRateEstimator`: after each batch, proposes the number of
/// records per second an input should ingest so that processing keeps up
/// with the batch interval. A pure value: feed it batch results, read rates.
///
/// With `error = latestRate − processingRate`,
/// `historicalError = schedulingDelay · processingRate / batchInterval` and
/// `dError = (error − latestError) / secondsSinceLastUpdate`, the new rate is
/// `max(latestRate − p·error − i·historicalError − d·dError, minRate)`.
/// The first batch only seeds `latestRate` with its processing rate.
public struct PIDRateEstimator: Sendable {
    /// The controller's gains and floor.
    public struct Parameters: Sendable, Hashable {
        /// Default: 1.0
        public var proportional: Double
        /// Default: 0.2
        public var integral: Double
        /// Default: 0.0
        public var derivative: Double
        /// Records per second never to go below. Default: 100
        public var minRate: Double

        public init(proportional: Double = 1.0, integral: Double = 0.2, derivative: Double = 0.0, minRate: Double = 100) {
            self.proportional = proportional
            self.integral = integral
            self.derivative = derivative
            self.minRate = minRate
        }
    }

    public let batchIntervalMilliseconds: Int64
    public let parameters: Parameters

    private var firstRun = true
    private var latestTime: Int64 = -1
    private var latestRate: Double = -1
    private var latestError: Double = -1

    public init(batchInterval: Duration, parameters: Parameters = Parameters()) throws {
        let millis = batchInterval.wholeMilliseconds
        guard millis > 0 else {
            throw StreamingError(code: .invalidDuration,
                                 message: "the rate estimator's batch interval is \(batchInterval); it must be at least 1 ms")
        }
        guard parameters.proportional >= 0, parameters.integral >= 0, parameters.derivative >= 0 else {
            throw StreamingError(code: .invalidArgument,
                                 message: "PID gains must be ≥ 0 (proportional \(parameters.proportional), integral \(parameters.integral), derivative \(parameters.derivative))")
        }
        guard parameters.minRate > 0 else {
            throw StreamingError(code: .invalidArgument,
                                 message: "the estimator's minRate is \(parameters.minRate); it must be > 0 records/s")
        }
        self.batchIntervalMilliseconds = millis
        self.parameters = parameters
    }

    /// Feeds one completed batch; returns the new rate (records/s), or nil
    /// when the batch carries no information (no records, zero processing
    /// time, not newer than the last one) or it was the first useful batch.
    ///
    /// - Parameters:
    ///   - time: the batch time in milliseconds.
    ///   - elements: records the input delivered in that batch.
    ///   - processingDelay: processing time in milliseconds.
    ///   - schedulingDelay: scheduling delay in milliseconds.
    public mutating func compute(time: Int64, elements: Int64, processingDelay: Int64, schedulingDelay: Int64) -> Double? {
        guard time > latestTime, elements > 0, processingDelay > 0 else { return nil }
        let delaySinceUpdate = Double(time - latestTime) / 1000
        let processingRate = Double(elements) / Double(processingDelay) * 1000
        let error = latestRate - processingRate
        let historicalError = Double(schedulingDelay) * processingRate / Double(batchIntervalMilliseconds)
        let dError = (error - latestError) / delaySinceUpdate
        let newRate = max(
            latestRate - parameters.proportional * error - parameters.integral * historicalError
                - parameters.derivative * dError,
            parameters.minRate)
        latestTime = time
        if firstRun {
            latestRate = processingRate
            latestError = 0
            firstRun = false
            return nil
        }
        latestRate = newRate
        latestError = error
        return newRate
    }
}
