import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Accepts TCP connections on a fixed 127.0.0.1 port and forwards each to a
/// target `host:port`, so an embedded cluster (whose brokers pick their own
/// ports) can also be reached at a port chosen in advance. Kafka clients only
/// bootstrap through it: metadata then sends them to the brokers directly.
public final class LoopbackPortForwarder: Sendable {
    private let listener: Int32
    private let stopped = Locked(false)
    private let logger: Logger

    /// Starts listening; throws when the port is taken, naming it.
    public init(listenPort: UInt16, target: String, logger: Logger) throws {
        let parts = target.split(separator: ":")
        guard parts.count == 2, let targetPort = UInt16(parts[1]) else {
            throw KafkaError(code: .invalidArgument, message: "forward target '\(target)' is not host:port")
        }
        let targetHost = String(parts[0])
        self.logger = logger
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            throw KafkaError(code: .fail, message: "cannot create a socket for port \(listenPort): \(String(cString: strerror(errno)))")
        }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: listenPort)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw KafkaError(code: .invalidArgument, message: "cannot listen on 127.0.0.1:\(listenPort): \(reason); choose another --port")
        }
        listener = fd
        let listener = fd
        let stopped = self.stopped
        let thread = Thread {
            while !stopped.withLock({ $0 }) {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                Self.connectAndPump(client: client, host: targetHost, port: targetPort, logger: logger)
            }
        }
        thread.name = "sluice-forward-accept"
        thread.start()
    }

    /// Stops accepting new connections.
    public func stop() {
        stopped.withLock { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func connectAndPump(client: Int32, host: String, port: UInt16, logger: Logger) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard upstream >= 0, connected == 0 else {
            logger.warning("forward to \(host):\(port) failed: \(String(cString: strerror(errno)))")
            close(client)
            if upstream >= 0 { close(upstream) }
            return
        }
        let done = Locked(0)
        for (from, to) in [(client, upstream), (upstream, client)] {
            let thread = Thread {
                var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                    if count <= 0 { break }
                    var sent = 0
                    while sent < count {
                        let written = buffer.withUnsafeBytes { write(to, $0.baseAddress.map { $0 + sent }, count - sent) }
                        if written <= 0 { break }
                        sent += written
                    }
                    if sent < count { break }
                }
                shutdown(to, Int32(SHUT_WR))
                // The second pump to finish closes both sockets.
                if done.withLock({ value -> Bool in value += 1; return value == 2 }) {
                    close(client)
                    close(upstream)
                }
            }
            thread.start()
        }
    }
}
