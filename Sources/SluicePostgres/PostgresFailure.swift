import PostgresNIO
import Sluice

/// Why a statement failed, and whether trying the whole transaction again
/// on a new connection can succeed.
struct PostgresFailure: Error {
    /// The connection dropped, the server is restarting or shutting down,
    /// or the transaction lost a serialization race: retry.
    var isRetriable: Bool
    /// What to show (PSQLError's own description hides everything).
    var message: String
    var underlying: any Error

    init(_ error: any Error) {
        underlying = error
        if let message = tlsFailureMessage(error) {
            self.message = message
            isRetriable = false
        } else if let error = error as? PSQLError {
            if error.code == .server {
                let state = error.serverInfo?[.sqlState] ?? ""
                let text = error.serverInfo?[.message] ?? "server error"
                let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
                message = "\(text)\(detail) [SQLSTATE \(state)]"
                // 08: connection exception; 57: operator intervention (admin
                // shutdown, starting up); 40001/40P01: serialization failure, deadlock.
                isRetriable = state.hasPrefix("08") || state.hasPrefix("57") || state == "40001" || state == "40P01"
            } else {
                let cause = error.underlying.map { ": \($0)" } ?? ""
                message = "\(error.code)\(cause)"
                isRetriable = [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code)
            }
        } else if error is CancellationError {
            message = "cancelled"
            isRetriable = false
        } else if error is PostgresDecodingError {
            message = String(reflecting: error)
            isRetriable = false
        } else {
            // NIO's connect and channel errors (refused, reset, timed out).
            message = "\(error)"
            isRetriable = true
        }
    }
}
