import ArgumentParser
import SluiceJobs

/// Where a job's results go, and the database password kept off the command line.
struct SinkArguments: ParsableArguments {
    @Option(help: "Where results go: sqlite:FILE, postgres:URL (postgres://user@host:port/database[?sslmode=verify-full&sslrootcert=CA]) or kafka:TOPIC.")
    var sink: String

    @Option(help: "A file holding the PostgreSQL password. Default: $\(SinkSpecification.passwordVariable); a password in the URL works but warns.")
    var sinkPasswordFile: String?

    /// The sink with its password resolved, and the warning to log once, if any.
    func resolve() throws -> (sink: SinkSpecification, warning: String?) {
        try SinkSpecification(sink).resolvingPassword(file: sinkPasswordFile)
    }
}
