import Logging

/// Where a run's batches fall (Spark's `zeroTime` with the start time): batch
/// k is at `zeroTime + k·interval`, a stream sliding by `slide` has batches at
/// the times `zeroTime + k·slide`, and none before `startTime`.
struct Timeline: Hashable, Sendable {
    /// The origin of every grid. One interval before the first batch of the
    /// job's first run, kept across restarts by an exactly-once output.
    var zeroTime: Time
    /// The first batch of this run.
    var startTime: Time

    /// Whether a stream sliding by `slide` has a batch at `time`.
    func isValid(_ time: Time, slide: Duration) -> Bool {
        let step = slide.wholeMilliseconds
        return time >= startTime && step > 0 && (time.milliseconds - zeroTime.milliseconds) % step == 0
    }
}

/// Arithmetic on a grid `origin + k·step`, for any integer k (a clock that
/// reads before the origin gives negative k).
enum BatchGrid {
    /// The first time on the grid strictly after `time`.
    static func firstTime(after time: Time, origin: Time, step: Duration) -> Time {
        let size = step.wholeMilliseconds
        let offset = time.milliseconds - origin.milliseconds
        return Time(milliseconds: origin.milliseconds + (floorDivide(offset, size) + 1) * size)
    }

    /// `a / b` rounded toward minus infinity (b > 0).
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return a % b < 0 ? quotient - 1 : quotient
    }
}

/// The grid of an earlier run of a job, as its exactly-once store kept it.
struct RecoveredBatchGrid: Hashable, Sendable {
    let job: String
    let zeroTime: Time
    /// The batch interval of the run that stored the grid.
    let batchInterval: Duration
    /// The job's last committed batch.
    let lastBatchTime: Time?

    /// Says in the log how this run continues the stored grid.
    func logResumption(startTime: Time, batchInterval current: Duration, logger: Logger) {
        if current != batchInterval {
            // Windows' lengths and slides are multiples of the new interval
            // (checked at start), so their grid points stay batch times.
            logger.notice(
                "job '\(job)': the batch interval changed from \(batchInterval) to \(current); batches continue on the stored grid \(zeroTime) + k·\(current), first at \(startTime), so windows keep their slide times")
        }
        if let lastBatchTime, startTime <= lastBatchTime {
            logger.warning(
                "job '\(job)': the clock reads before the last committed batch \(lastBatchTime); this run's first batch is \(startTime), so batch times repeat ones already committed")
        }
    }
}
