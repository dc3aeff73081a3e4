import CoreMetrics
import Foundation
import Logging

/// Settings of a `StreamingContext` other than its batch interval and clock.
public struct StreamingConfiguration: Sendable {
    /// Backpressure (Spark's `spark.streaming.backpressure.*`).
    public struct Backpressure: Sendable {
        /// Whether inputs get a PID-estimated rate when planning. Default: false
        public var isEnabled: Bool
        /// Rate (records/s) before the first estimate; nil for none. Default: nil
        public var initialRate: Double?
        /// The PID controller's gains. Default: Spark's (1.0, 0.2, 0.0, min 100)
        public var pid: PIDRateEstimator.Parameters

        public init(isEnabled: Bool = false, initialRate: Double? = nil, pid: PIDRateEstimator.Parameters = .init()) {
            self.isEnabled = isEnabled
            self.initialRate = initialRate
            self.pid = pid
        }
    }

    /// Partitions used by keyed operators and sources that split their data.
    /// Default: the number of active processors.
    public var defaultParallelism: Int
    /// Where the one-line-per-batch progress log goes. Default: `Logger(label: "sluice")`
    public var logger: Logger
    /// Where `print` writes unless given a sink. Default: standard output
    public var printSink: any TextSink
    /// Default: disabled
    public var backpressure: Backpressure
    /// Receives every batch's planned offset ranges before the batch is
    /// queued. Default: nil (plans are kept in memory only)
    public var planRecorder: (any BatchPlanRecorder)?
    /// Where the `sluice_*` metrics go. Default: nil, the process-wide
    /// `MetricsSystem.factory` (set by `MetricsSystem.bootstrap`)
    public var metricsFactory: (any MetricsFactory)?
    /// Whether operators that can (`map`, `filter`, `flatMap` into
    /// `countTokens`) start on an input partition's first records while its
    /// later records are still being read (``PartitionArrival``), on
    /// threads below the input's priority (`PiecewiseExecutor`). Off: every
    /// operator waits until the batch's records have all arrived. Outputs
    /// see whole batches either way. Default: true
    public var processesWhileReading: Bool = true

    public init(
        defaultParallelism: Int = ProcessInfo.processInfo.activeProcessorCount,
        logger: Logger = Logger(label: "sluice"),
        printSink: any TextSink = StandardOutputSink(),
        backpressure: Backpressure = Backpressure(),
        planRecorder: (any BatchPlanRecorder)? = nil,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.defaultParallelism = max(1, defaultParallelism)
        self.logger = logger
        self.printSink = printSink
        self.backpressure = backpressure
        self.planRecorder = planRecorder
        self.metricsFactory = metricsFactory
    }
}

/// The recorded plan of one batch: what every input will read.
public struct RecordedBatchPlan: Sendable, Hashable, Codable {
    public var batchTime: Time
    /// Offset ranges per input id.
    public var offsetRanges: [Int: [OffsetRange]]
}

/// Persists batch plans before the batch runs (the exactly-once layer stores
/// them with its results). Throwing stops the context before the batch runs.
public protocol BatchPlanRecorder: Sendable {
    func record(_ plan: RecordedBatchPlan) async throws
}
