import Foundation

/// A throwaway certificate authority for TLS tests, made with `openssl`:
/// a CA, a server certificate it signs for ``serverHostName`` (and no IP
/// address, so connecting to 127.0.0.1 fails host name verification), a
/// client certificate whose key is encrypted with ``clientKeyPassword``,
/// and a second, unrelated CA that signed none of them.
public struct TestCertificates: Sendable {
    public let directory: URL
    public let serverHostName: String
    public var caCertificate: String { path("ca.crt") }
    public var otherCACertificate: String { path("other-ca.crt") }
    public var serverCertificate: String { path("server.crt") }
    public var serverKey: String { path("server.key") }
    public var clientCertificate: String { path("client.crt") }
    public var clientKey: String { path("client.key") }
    public let clientKeyPassword = "client-key-secret"

    /// Makes the files in `directory` (created if needed); throws when
    /// `openssl` fails (see ``opensslAvailable`` to skip without it).
    public init(in directory: URL, serverHostName: String = "localhost") throws {
        self.directory = directory
        self.serverHostName = serverHostName
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509"] + curve + ["-nodes", "-keyout", path("\(ca).key"), "-out", path("\(ca).crt"),
                                                   "-subj", "/CN=Sluice test \(ca)", "-days", "2"])
        }
        try "subjectAltName=DNS:\(serverHostName)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n".write(toFile: path("client.ext"), atomically: true, encoding: .utf8)
        for (name, keyOptions) in [("server", ["-nodes"]), ("client", ["-passout", "pass:\(clientKeyPassword)"])] {
            try openssl(["req"] + curve + keyOptions + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"),
                                                        "-subj", "/CN=\(name == "server" ? serverHostName : "sluice-client")"])
            try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", caCertificate, "-CAkey", path("ca.key"),
                         "-CAcreateserial", "-out", path("\(name).crt"), "-days", "2", "-extfile", path("\(name).ext")])
        }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestCertificateError(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(text)")
        }
    }

    /// Whether `openssl` is on PATH.
    public static var opensslAvailable: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/openssl") }
    }
}

/// Why the test certificates could not be made.
public struct TestCertificateError: Error, CustomStringConvertible {
    public var description: String
}
