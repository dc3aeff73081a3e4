#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX socket calls the socket source needs, with errors as text.
enum POSIXSocket {
    #if canImport(Glibc)
    static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    static let streamType = SOCK_STREAM
    #endif

    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Connects to `host:port` (any address family), non-blocking, giving up
    /// after `timeoutMilliseconds` per address.
    static func connect(host: String, port: Int, timeoutMilliseconds: Int32) -> Result<Int32, SocketError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamType
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return .failure(SocketError(message: "cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let info = current {
            current = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else {
                lastError = errorText()
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if systemConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                return .success(fd)
            }
            guard errno == EINPROGRESS else {
                lastError = errorText()
                close(fd)
                continue
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&descriptor, 1, timeoutMilliseconds)
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if ready == 1 && socketError == 0 {
                return .success(fd)
            }
            lastError = ready == 0 ? "timed out" : errorText(socketError)
            close(fd)
        }
        return .failure(SocketError(message: "cannot connect to \(host):\(port): \(lastError)"))
    }

    enum ReadResult {
        case data(Int)
        case timeout
        case endOfStream
        case failed(String)
    }

    /// Waits up to `timeoutMilliseconds` for data, then reads what is there.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32) -> ReadResult {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready == 0 { return .timeout }
        if ready < 0 {
            return errno == EINTR ? .timeout : .failed(errorText())
        }
        let count = recv(fd, buffer.baseAddress, buffer.count, 0)
        if count > 0 { return .data(count) }
        if count == 0 { return .endOfStream }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .timeout }
        return .failed(errorText())
    }

    static func close(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }
}

struct SocketError: Error {
    let message: String
}

#if canImport(Glibc)
private func systemConnect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t) -> Int32 {
    Glibc.connect(fd, address, length)
}
#else
private func systemConnect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t) -> Int32 {
    Darwin.connect(fd, address, length)
}
#endif
