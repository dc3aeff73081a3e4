/// Keeps the latest backpressure estimate of one input (Spark's
/// `RateController`), fed by completed batches.
final class RateController: Sendable {
    private struct State {
        var estimator: PIDRateEstimator
        var latestRate: Double?
    }

    private let state: Locked<State>

    init(estimator: PIDRateEstimator, initialRate: Double?) {
        state = Locked(State(estimator: estimator, latestRate: initialRate.flatMap { $0 > 0 ? $0 : nil }))
    }

    /// Records/s the input may ingest next, or nil before any estimate.
    var latestRate: Double? { state.withLock { $0.latestRate } }

    func batchCompleted(time: Time, records: Int, processingDelay: Duration, schedulingDelay: Duration) {
        state.withLock { state in
            if let rate = state.estimator.compute(
                time: time.milliseconds, elements: Int64(records),
                processingDelay: processingDelay.wholeMilliseconds,
                schedulingDelay: schedulingDelay.wholeMilliseconds)
            {
                state.latestRate = rate
            }
        }
    }
}
