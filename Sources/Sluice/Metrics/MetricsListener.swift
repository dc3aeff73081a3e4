import CoreMetrics

/// Publishes every batch through swift-metrics:
/// `sluice_batches_total`, `sluice_records_total` (counters),
/// `sluice_batch_processing_time`, `sluice_batch_scheduling_delay`,
/// `sluice_batch_total_delay` (timers), `sluice_partition_lag` (gauge with
/// `topic` and `partition` dimensions). Installed by every context.
struct MetricsListener: StreamingListener {
    private let factory: any MetricsFactory
    private let batches: Counter
    private let records: Counter
    private let processing: Timer
    private let scheduling: Timer
    private let total: Timer

    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        self.factory = factory
        batches = Counter(label: "sluice_batches_total", factory: factory)
        records = Counter(label: "sluice_records_total", factory: factory)
        processing = Timer(label: "sluice_batch_processing_time", factory: factory)
        scheduling = Timer(label: "sluice_batch_scheduling_delay", factory: factory)
        total = Timer(label: "sluice_batch_total_delay", factory: factory)
    }

    func batchCompleted(_ info: BatchInfo) {
        batches.increment()
        records.increment(by: info.numRecords)
        if let delay = info.processingDelay { processing.recordMilliseconds(delay.wholeMilliseconds) }
        if let delay = info.schedulingDelay { scheduling.recordMilliseconds(delay.wholeMilliseconds) }
        if let delay = info.totalDelay { total.recordMilliseconds(delay.wholeMilliseconds) }
        for lag in info.partitionLag {
            Gauge(label: "sluice_partition_lag",
                  dimensions: [("topic", lag.topic), ("partition", String(lag.partition))],
                  factory: factory)
                .record(lag.lag)
        }
    }
}
