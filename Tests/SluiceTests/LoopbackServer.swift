import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on 127.0.0.1 for socket-stream tests: accepts one
/// connection, sends the given chunks (pausing between them so that they
/// arrive in separate reads), then closes the connection and, optionally,
/// stays open for the next `serve` call.
final class LoopbackServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32

    /// Listens on `port` (0: any free port).
    init(port: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.failed("socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw ServerError.failed("bind/listen on port \(port)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.listener = fd
    }

    enum ServerError: Error {
        case failed(String)
    }

    /// On a background thread: accept one client (waiting at most 10 s), send
    /// `chunks` with a short pause between them, close the connection.
    func serve(_ chunks: [[UInt8]], pause: TimeInterval = 0.03, done: (@Sendable () -> Void)? = nil) {
        let listener = self.listener
        let thread = Thread {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 10_000) == 1 else { return }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            for (index, chunk) in chunks.enumerated() {
                if index > 0 { Thread.sleep(forTimeInterval: pause) }
                var offset = 0
                while offset < chunk.count {
                    let sent = chunk[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent <= 0 { break }
                    offset += sent
                }
            }
            close(client)
            done?()
        }
        thread.start()
    }

    func shutdown() {
        close(listener)
    }
}
