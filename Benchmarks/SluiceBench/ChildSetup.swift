import Foundation
import Logging

/// Benchmark children log warnings and errors only, to standard error, so
/// the per-batch progress line does not cost time or hide the RESULT line.
enum ChildSetup {
    static func quietLogging() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "sluice-bench")
        logger.logLevel = .warning
        return logger
    }
}
