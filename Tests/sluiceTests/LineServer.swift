import Foundation

/// A TCP server on 127.0.0.1 that accepts one client and sends it lines,
/// like `nc -lk PORT` in Spark's NetworkWordCount guide.
final class LineServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    /// Guards `client` and is signalled when the client is accepted.
    private let accepted = NSCondition()
    private var client: Int32 = -1

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw TestFailure("bind/listen: \(errno)") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: actual.sin_port)
        listener = fd
        let thread = Thread { [self] in
            let fd = accept(listener, nil, nil)
            accepted.lock()
            client = fd
            accepted.broadcast()
            accepted.unlock()
        }
        thread.start()
    }

    /// Waits (bounded) for the client, then sends `lines`, each ended by a newline.
    func send(_ lines: [String], timeout: Duration = .seconds(20)) throws {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds))
        accepted.lock()
        while client < 0 && accepted.wait(until: deadline) {}
        let fd = client
        accepted.unlock()
        guard fd >= 0 else { throw TestFailure("no client connected within \(timeout)") }
        let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + sent }, bytes.count - sent) }
            guard written > 0 else { throw TestFailure("write failed: \(errno)") }
            sent += written
        }
    }

    deinit {
        accepted.withLock { if client >= 0 { close(client) } }
        close(listener)
    }
}
