import Sluice
import SluiceSQLite

/// Where a job's exactly-once results go, as written on the command line:
/// `sqlite:FILE` (the embedded default).
public enum SinkSpecification: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)

    /// Parses `sqlite:FILE`; throws naming the accepted forms.
    public init(_ text: String) throws {
        if text.hasPrefix("sqlite:"), text.count > "sqlite:".count {
            self = .sqlite(path: String(text.dropFirst("sqlite:".count)))
            return
        }
        throw StreamingError(code: .invalidArgument, message: "sink '\(text)' is not understood; use sqlite:FILE")
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        }
    }

    /// Opens the store.
    public func open() throws -> any ExactlyOnceStore {
        switch self {
        case .sqlite(let path): return try SQLiteStore(path: path)
        }
    }
}
