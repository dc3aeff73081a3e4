/// An error raised by the streaming core. Its `message` says what went wrong
/// and how to fix it; `code` lets callers match on the kind.
public struct StreamingError: Error, CustomStringConvertible, Sendable {
    /// The kind of error. Extensible: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The batch interval (or a window/slide duration) is not valid.
        public static let invalidDuration = Code("invalidDuration")
        /// `start()` was called on a context that is already running.
        public static let alreadyStarted = Code("alreadyStarted")
        /// The context was stopped and cannot be started again.
        public static let alreadyStopped = Code("alreadyStopped")
        /// A stream or output operation was added after `start()`.
        public static let graphFrozen = Code("graphFrozen")
        /// `start()` was called with no output operation registered.
        public static let noOutputOperations = Code("noOutputOperations")
        /// A stream was combined with a stream of another context.
        public static let foreignStream = Code("foreignStream")
        /// An argument is out of range.
        public static let invalidArgument = Code("invalidArgument")
        /// An input source failed to start or to plan/read a batch.
        public static let sourceFailed = Code("sourceFailed")
        /// An output operation threw while processing a batch.
        public static let outputFailed = Code("outputFailed")
        /// Stored operator state does not match the job's state types.
        public static let stateIncompatible = Code("stateIncompatible")
        /// A file-system operation failed.
        public static let io = Code("io")
        /// Another process claimed the job: this process may no longer
        /// commit for it (see ``OwnerClaim``).
        public static let fenced = Code("fenced")
    }

    public var code: Code
    /// What went wrong and how to fix it.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error & Sendable)?

    public init(code: Code, message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying {
            return "StreamingError.\(code): \(message) (cause: \(underlying))"
        }
        return "StreamingError.\(code): \(message)"
    }
}
