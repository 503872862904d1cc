// Blocking TCP sockets for the election port. Apache's QuorumCnxManager gives
// every peer a sending and a receiving thread that block on java.net.Socket;
// this is the same design over Glibc, so each worker is a named OS thread that
// shows in `top -H`, and a dead peer can only ever stall its own two threads.
//
// Closing: another thread may close a socket while a worker is blocked in it
// (that is how a worker is stopped). close() therefore only shutdown()s the
// descriptor, which wakes blocked read/write/accept calls, and the real
// close() happens when the last call using it has returned, so a descriptor
// number is never closed under a thread that might then use a reused number.
import NIOConcurrencyHelpers
import NIOCore
import ZKServer
#if canImport(Glibc)
import Glibc
#endif

public struct SocketError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: Sendable, Equatable {
        case system(Int32)
        case timedOut
        case endOfStream
        case closed
        case unresolved
        case cancelled
    }

    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    static func errno(_ operation: String, _ err: Int32 = Glibc.errno) -> SocketError {
        SocketError(.system(err), "\(operation): \(String(cString: strerror(err)))")
    }
}

/// A descriptor shared by threads: `acquire`/`release` bracket every system
/// call that uses it; `close` may come from any thread, any number of times.
final class SharedDescriptor: @unchecked Sendable {
    // `lock` guards fd, users and closed.
    private let lock = NIOLock()
    private var fd: Int32
    private var users = 0
    private var closed = false

    init(_ fd: Int32) { self.fd = fd }

    func acquire() throws(SocketError) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw SocketError(.closed, "socket closed") }
        users += 1
        return fd
    }

    func release() {
        let toClose: Int32? = lock.withLock {
            users -= 1
            if closed && users == 0 && fd >= 0 {
                defer { fd = -1 }
                return fd
            }
            return nil
        }
        if let toClose { _ = Glibc.close(toClose) }
    }

    var isClosed: Bool { lock.withLock { closed } }

    func close() {
        let (toShutdown, toClose): (Int32?, Int32?) = lock.withLock {
            guard !closed else { return (nil, nil) }
            closed = true
            if users == 0 {
                defer { fd = -1 }
                return (nil, fd)
            }
            return (fd, nil)
        }
        if let toShutdown { _ = Glibc.shutdown(toShutdown, Int32(SHUT_RDWR)) }
        if let toClose { _ = Glibc.close(toClose) }
    }

    func with<R>(_ body: (Int32) throws(SocketError) -> R) throws(SocketError) -> R {
        let fd = try acquire()
        defer { release() }
        return try body(fd)
    }
}

/// A connected TCP socket used with blocking calls from dedicated threads.
public final class BlockingSocket: Sendable {
    let descriptor: SharedDescriptor
    /// "host:port" of the other end, for log lines.
    public let remoteAddress: String

    init(fd: Int32, remoteAddress: String) {
        self.descriptor = SharedDescriptor(fd)
        self.remoteAddress = remoteAddress
    }

    /// Resolves `host` (IPv4 and IPv6) and connects to the first address that
    /// answers within `timeoutMs` overall. `isCancelled` is asked every 100 ms
    /// so a shutting-down owner need not wait out the timeout.
    public static func connect(host: String, port: Int, timeoutMs: Int,
                               isCancelled: () -> Bool = { false }) throws(SocketError) -> BlockingSocket {
        let deadline = ZKServer.Clock.monotonicMillis() + Int64(max(timeoutMs, 1))
        let addresses = try resolve(host: host, port: port, passive: false)
        var lastError = SocketError(.unresolved, "no address for \(host)")
        for address in addresses {
            if isCancelled() { throw SocketError(.cancelled, "connect to \(host):\(port) cancelled") }
            do {
                return try connect(address, deadline: deadline, isCancelled: isCancelled)
            } catch {
                lastError = SocketError(error.code, "connect to \(formatAddress(host: host, port: port)): \(error.description)")
                if error.code == .cancelled || ZKServer.Clock.monotonicMillis() >= deadline { break }
            }
        }
        throw lastError
    }

    private static func connect(_ address: ResolvedAddress, deadline: Int64,
                                isCancelled: () -> Bool) throws(SocketError) -> BlockingSocket {
        let fd = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .errno("socket") }
        var keep = false
        defer { if !keep { _ = Glibc.close(fd) } }

        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) >= 0 else { throw .errno("fcntl") }
        let rc = address.storage.withUnsafeBytes { raw in
            Glibc.connect(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), address.length)
        }
        if rc != 0 {
            let err = Glibc.errno
            guard err == EINPROGRESS || err == EINTR else { throw .errno("connect", err) }
            // Wait in slices so a cancelled owner is noticed promptly.
            while true {
                let remaining = deadline - ZKServer.Clock.monotonicMillis()
                guard remaining > 0 else { throw SocketError(.timedOut, "connect timed out") }
                if isCancelled() { throw SocketError(.cancelled, "connect cancelled") }
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let n = poll(&pfd, 1, Int32(min(remaining, 100)))
                if n < 0 {
                    if Glibc.errno == EINTR { continue }
                    throw .errno("poll")
                }
                if n > 0 { break }
            }
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) == 0 else { throw .errno("getsockopt") }
            guard soError == 0 else { throw .errno("connect", soError) }
        }
        guard fcntl(fd, F_SETFL, flags) >= 0 else { throw .errno("fcntl") }
        var one: Int32 = 1
        guard setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .errno("setsockopt(TCP_NODELAY)")
        }
        keep = true
        return BlockingSocket(fd: fd, remoteAddress: address.description)
    }

    /// Reads exactly `buffer.count` bytes, blocking as long as it takes (or
    /// until the read timeout, if one is set).
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) {
        try descriptor.with { fd throws(SocketError) in
            var done = 0
            while done < buffer.count {
                let n = Glibc.recv(fd, buffer.baseAddress! + done, buffer.count - done, 0)
                if n > 0 {
                    done += n
                } else if n == 0 {
                    throw SocketError(.endOfStream, "connection closed by \(remoteAddress)")
                } else {
                    let err = Glibc.errno
                    if err == EINTR { continue }
                    if err == EAGAIN || err == EWOULDBLOCK {
                        throw SocketError(.timedOut, "read from \(remoteAddress) timed out")
                    }
                    throw .errno("read from \(remoteAddress)", err)
                }
            }
        }
    }

    public func readFully(_ count: Int) throws(SocketError) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: count)
        guard count > 0 else { return b }
        do {
            try b.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                try self.readFully(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]))
                return count
            }
        } catch let e as SocketError {
            throw e
        } catch {
            throw SocketError(.system(EIO), "\(error)")
        }
        return b
    }

    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SocketError) {
        try descriptor.with { fd throws(SocketError) in
            var done = 0
            while done < bytes.count {
                // MSG_NOSIGNAL: a peer that went away must not SIGPIPE the daemon.
                let n = Glibc.send(fd, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
                if n >= 0 {
                    done += n
                } else {
                    let err = Glibc.errno
                    if err == EINTR { continue }
                    throw .errno("write to \(remoteAddress)", err)
                }
            }
        }
    }

    public func writeAll(_ buffer: ByteBuffer) throws(SocketError) {
        do {
            try buffer.withUnsafeReadableBytes { raw in try self.writeAll(raw) }
        } catch let e as SocketError {
            throw e
        } catch {
            throw SocketError(.system(EIO), "\(error)")
        }
    }

    /// SO_RCVTIMEO; 0 blocks for ever.
    public func setReadTimeout(ms: Int) throws(SocketError) {
        try descriptor.with { fd throws(SocketError) in
            var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
            guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw .errno("setsockopt(SO_RCVTIMEO)")
            }
        }
    }

    /// The local port, for tests and log lines.
    public var localPort: Int? {
        try? descriptor.with { fd in localPortOf(fd) }
    }

    /// Shuts the connection down (waking any thread blocked in it) and closes
    /// it once no call is using it. Safe from any thread, any number of times.
    public func close() { descriptor.close() }

    public var isClosed: Bool { descriptor.isClosed }
}

/// A listening TCP socket (java.net.ServerSocket with SO_REUSEADDR).
public final class BlockingListener: Sendable {
    let descriptor: SharedDescriptor
    public let port: Int

    /// Binds `host` (nil or "0.0.0.0"/"::" for the wildcard) and listens.
    /// Port 0 picks a free port; `port` tells which.
    public init(host: String?, port: Int, backlog: Int32 = 50) throws(SocketError) {
        let addresses = try resolve(host: host, port: port, passive: true)
        var lastError = SocketError(.unresolved, "no address for \(host ?? "*")")
        for address in addresses {
            let fd = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .errno("socket"); continue }
            var one: Int32 = 1
            let ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
                && address.storage.withUnsafeBytes({ raw in
                    Glibc.bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), address.length)
                }) == 0
                && Glibc.listen(fd, backlog) == 0
            if ok, let bound = localPortOf(fd) {
                descriptor = SharedDescriptor(fd)
                self.port = bound
                return
            }
            lastError = .errno("bind \(formatAddress(host: address.host, port: port))")
            _ = Glibc.close(fd)
        }
        throw lastError
    }

    /// Blocks until a connection arrives (or `timeoutMs` passes: `.timedOut`);
    /// the accepted socket has TCP_NODELAY. Throws `.closed` (or an errno)
    /// once `close()` was called.
    public func accept(timeoutMs: Int? = nil) throws(SocketError) -> BlockingSocket {
        let deadline = timeoutMs.map { ZKServer.Clock.monotonicMillis() + Int64($0) }
        return try descriptor.with { fd throws(SocketError) -> BlockingSocket in
            while true {
                if let deadline {
                    let remaining = deadline - ZKServer.Clock.monotonicMillis()
                    guard remaining > 0 else { throw SocketError(.timedOut, "accept timed out") }
                    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    let n = poll(&pfd, 1, Int32(remaining))
                    if n < 0 && Glibc.errno != EINTR { throw .errno("poll") }
                    if n <= 0 { continue }
                }
                var storage = sockaddr_storage()
                var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let cfd = withUnsafeMutablePointer(to: &storage) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.accept(fd, $0, &len)
                    }
                }
                if cfd < 0 {
                    let err = Glibc.errno
                    if err == EINTR || err == ECONNABORTED { continue }
                    if descriptor.isClosed { throw SocketError(.closed, "listener closed") }
                    throw .errno("accept", err)
                }
                // accept4 is hidden behind _GNU_SOURCE; the window before FD_CLOEXEC only matters to a fork.
                _ = fcntl(cfd, F_SETFD, FD_CLOEXEC)
                var one: Int32 = 1
                _ = setsockopt(cfd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return BlockingSocket(fd: cfd, remoteAddress: describe(storage))
            }
        }
    }

    /// Stops listening and wakes a thread blocked in accept().
    public func close() { descriptor.close() }
}

// MARK: - addresses

struct ResolvedAddress {
    var family: Int32
    var storage: [UInt8]
    var length: socklen_t
    var host: String
    var port: Int
    var description: String { formatAddress(host: host, port: port) }
}

/// "host:port", with IPv6 hosts in brackets (NetUtils.formatInetAddr).
func formatAddress(host: String, port: Int) -> String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
}

func resolve(host: String?, port: Int, passive: Bool) throws(SocketError) -> [ResolvedAddress] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
    var list: UnsafeMutablePointer<addrinfo>?
    let name = (host?.isEmpty ?? true) ? nil : host
    let rc = String(port).withCString { service in
        if let name { return getaddrinfo(name, service, &hints, &list) }
        return getaddrinfo(nil, service, &hints, &list)
    }
    guard rc == 0 else {
        throw SocketError(.unresolved, "cannot resolve \(host ?? "*"): \(String(cString: gai_strerror(rc)))")
    }
    defer { freeaddrinfo(list) }
    var out: [ResolvedAddress] = []
    var p = list
    while let ai = p {
        if let sa = ai.pointee.ai_addr, ai.pointee.ai_family == AF_INET || ai.pointee.ai_family == AF_INET6 {
            let len = Int(ai.pointee.ai_addrlen)
            let bytes = Array(UnsafeRawBufferPointer(start: sa, count: len))
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes.prefix(MemoryLayout<sockaddr_storage>.size)) }
            let (h, _) = numericHost(storage)
            out.append(ResolvedAddress(family: ai.pointee.ai_family, storage: bytes, length: ai.pointee.ai_addrlen,
                                       host: h, port: port))
        }
        p = ai.pointee.ai_next
    }
    return out
}

private func numericHost(_ storage: sockaddr_storage) -> (String, Int) {
    var s = storage
    var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    if Int32(s.ss_family) == AF_INET {
        return withUnsafePointer(to: &s) { p in
            p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> (String, Int) in
                var a = sin.pointee.sin_addr
                inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count))
                return (cText(buf), Int(UInt16(bigEndian: sin.pointee.sin_port)))
            }
        }
    }
    if Int32(s.ss_family) == AF_INET6 {
        return withUnsafePointer(to: &s) { p in
            p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 -> (String, Int) in
                var a = sin6.pointee.sin6_addr
                inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
                return (cText(buf), Int(UInt16(bigEndian: sin6.pointee.sin6_port)))
            }
        }
    }
    return ("?", 0)
}

private func describe(_ storage: sockaddr_storage) -> String {
    let (h, p) = numericHost(storage)
    return formatAddress(host: h, port: p)
}

private func localPortOf(_ fd: Int32) -> Int? {
    var storage = sockaddr_storage()
    var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let rc = withUnsafeMutablePointer(to: &storage) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    guard rc == 0 else { return nil }
    return numericHost(storage).1
}

private func cText(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// True for 0.0.0.0 and :: (InetAddress.isAnyLocalAddress on a literal).
func isWildcardAddress(_ host: String) -> Bool {
    var v4 = in_addr()
    if inet_pton(AF_INET, host, &v4) == 1 { return v4.s_addr == 0 }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, host, &v6) == 1 {
        return withUnsafeBytes(of: &v6) { $0.allSatisfy { $0 == 0 } }
    }
    return false
}
