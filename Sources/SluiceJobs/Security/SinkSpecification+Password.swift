import Foundation
import Sluice
import SluicePostgres

extension SinkSpecification {
    /// The environment variable a `postgres:` sink takes its password from.
    public static let passwordVariable = "SLUICE_SINK_PASSWORD"

    /// This sink with the database password resolved: from `file`
    /// (`--sink-password-file`), else from the URL (works, but returns a
    /// warning: every user of the machine can read arguments), else from
    /// `SLUICE_SINK_PASSWORD`. Sinks without a password are returned as they
    /// are; a password file for one throws.
    public func resolvingPassword(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (sink: SinkSpecification, warning: String?)
    {
        guard case .postgres(let url) = self else {
            if file != nil {
                throw StreamingError(code: .invalidArgument, message: "--sink-password-file is for a postgres: sink, not \(self)")
            }
            return (self, nil)
        }
        guard var components = URLComponents(string: url) else { return (self, nil) }
        let input = SecretInput(fileOption: "--sink-password-file", environmentVariable: Self.passwordVariable, file: file,
                                argument: components.password.map { ($0, "the --sink URL") })
        let (password, warning) = try input.resolve(environment: environment)
        guard let password, components.password == nil else { return (self, warning) }
        components.password = password
        guard let withPassword = components.string else { return (self, warning) }
        return (.postgres(url: withPassword), warning)
    }
}
