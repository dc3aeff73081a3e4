import Foundation
import Sluice

/// A password as a command line can give it: from a file (`--…-password-file`),
/// from an argument (visible to every user of the machine in `ps`, so it
/// works but warns), or from an environment variable.
public struct SecretInput: Sendable {
    /// The option that names the file, for messages (e.g. `--sasl-password-file`).
    public var fileOption: String
    /// The environment variable read when neither file nor argument is given.
    public var environmentVariable: String
    /// The file holding the secret (one line; a trailing newline is dropped). Default: `nil`.
    public var file: String?
    /// The secret as given inside an argument, and where. Default: `nil`.
    public var argument: (value: String, option: String)?

    public init(fileOption: String, environmentVariable: String, file: String? = nil, argument: (value: String, option: String)? = nil) {
        self.fileOption = fileOption
        self.environmentVariable = environmentVariable
        self.file = file
        self.argument = argument
    }

    /// The secret, if any was given, and the warning to log when it came
    /// from an argument. A file and an argument together, an unreadable file
    /// or an empty one throw naming the option.
    public func resolve(environment: [String: String]) throws -> (value: String?, warning: String?) {
        if let file {
            if let argument {
                throw StreamingError(code: .invalidArgument, message: "\(fileOption) and the password in \(argument.option) both give a "
                    + "password; keep only \(fileOption)")
            }
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw StreamingError(code: .invalidArgument, message: "\(fileOption): cannot read '\(file)' (\(error.localizedDescription)); "
                    + "check the path and that this user may read it")
            }
            let secret = String(text.reversed().drop { $0 == "\n" || $0 == "\r" }.reversed())
            guard !secret.isEmpty else {
                throw StreamingError(code: .invalidArgument, message: "\(fileOption): '\(file)' is empty; write the password on its first line")
            }
            return (secret, nil)
        }
        if let argument {
            return (argument.value, "the password given in \(argument.option) can be read by every user of this machine (ps, /proc); "
                + "use \(fileOption) FILE or the environment variable \(environmentVariable) instead")
        }
        if let value = environment[environmentVariable], !value.isEmpty { return (value, nil) }
        return (nil, nil)
    }
}
