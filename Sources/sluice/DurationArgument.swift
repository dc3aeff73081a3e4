import ArgumentParser

/// A duration written as `250ms`, `1s`, `1.5s` or `2m`.
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible {
    var duration: Duration
    private let text: String

    init?(argument: String) {
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for unit in units where argument.hasSuffix(unit.suffix) {
            guard let value = Double(argument.dropLast(unit.suffix.count)), value.isFinite, value >= 0 else { return nil }
            duration = .milliseconds(Int64((value * unit.scale * 1000).rounded()))
            text = argument
            return
        }
        return nil
    }

    var description: String { text }
    static var defaultCompletionKind: CompletionKind { .default }
}
