import ArgumentParser

/// `sluice-bench`: end-to-end benchmarks that compare Sluice with a baseline
/// measured in the same run. Figures are ratios; absolute numbers depend on
/// the (shared, noisy) machine. Pieces whose memory is measured run as
/// child processes of this executable (the `run-*` subcommands), so each
/// peak RSS is one run's.
@main
struct SluiceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench",
        abstract: "End-to-end benchmarks of Sluice against baselines measured in the same run.",
        subcommands: [
            ConsumeBenchmark.self, KafkaWordCountBenchmark.self, LatencyBenchmark.self, SocketWordCountBenchmark.self,
            StateBenchmark.self, WindowBenchmark.self, SinkBenchmark.self,
            // Children (run by the benchmarks above).
            ReadCommand.self, KafkaWordCountChild.self, SocketWordCountChild.self, StateMemoryChild.self, SinkChild.self,
        ]
    )
}
