import ArgumentParser

/// `sluice-bench`: end-to-end benchmarks that compare Sluice with a baseline
/// measured in the same run. Figures are ratios; absolute numbers depend on
/// the (shared, noisy) machine.
@main
struct SluiceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench",
        abstract: "End-to-end benchmarks of Sluice against baselines measured in the same run.",
        subcommands: [ConsumeBenchmark.self, ReadCommand.self]
    )
}
