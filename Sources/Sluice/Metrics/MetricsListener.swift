import Metrics

/// Publishes every batch through swift-metrics:
/// `sluice_batches_total`, `sluice_records_total` (counters),
/// `sluice_batch_processing_time`, `sluice_batch_scheduling_delay`,
/// `sluice_batch_total_delay` (timers), `sluice_partition_lag` (gauge with
/// `topic` and `partition` dimensions). Installed by every context.
struct MetricsListener: StreamingListener {
    private let batches = Counter(label: "sluice_batches_total")
    private let records = Counter(label: "sluice_records_total")
    private let processing = Timer(label: "sluice_batch_processing_time")
    private let scheduling = Timer(label: "sluice_batch_scheduling_delay")
    private let total = Timer(label: "sluice_batch_total_delay")

    func batchCompleted(_ info: BatchInfo) {
        batches.increment()
        records.increment(by: info.numRecords)
        if let delay = info.processingDelay { processing.recordMilliseconds(delay.wholeMilliseconds) }
        if let delay = info.schedulingDelay { scheduling.recordMilliseconds(delay.wholeMilliseconds) }
        if let delay = info.totalDelay { total.recordMilliseconds(delay.wholeMilliseconds) }
        for lag in info.partitionLag {
            Gauge(label: "sluice_partition_lag",
                  dimensions: [("topic", lag.topic), ("partition", String(lag.partition))])
                .record(lag.lag)
        }
    }
}
