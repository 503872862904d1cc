// The client port on SwiftNIO (epoll): accepts connections, keeps the per-IP
// and per-session registries, and pauses reading on connections while the
// server is over globalOutstandingLimit (NIOServerCnxnFactory in Apache).
// In an ensemble the port outlives the server of each role: the peer swaps
// the server in and out, and connections made meanwhile are turned away.
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

public final class NIOServerCnxnFactory: @unchecked Sendable {
    public let config: ServerConfig
    private let server = NIOLockedValueBox<ZooKeeperServer?>(nil)
    public let group: MultiThreadedEventLoopGroup
    private var serverChannel: (any Channel)?
    private let logger = Logger(label: "zkswiftd.NIOServerCnxnFactory")

    // all below guarded by `lock`
    private let lock = NIOLock()
    private var cnxns: [ObjectIdentifier: ServerCnxn] = [:]
    private var perIP: [String: Int] = [:]
    private var bySession: [Int64: ServerCnxn] = [:]
    private var throttled: [ServerCnxn] = []

    public init(config: ServerConfig, threads: Int = System.coreCount) {
        self.config = config
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    public convenience init(zks: ZooKeeperServer, threads: Int = System.coreCount) {
        self.init(config: zks.config, threads: threads)
        setZooKeeperServer(zks)
    }

    /// The server new connections go to; nil while the peer has none serving
    /// (LOOKING). Connections of the previous server are closed.
    public func setZooKeeperServer(_ zks: ZooKeeperServer?) {
        let old = server.withLockedValue { s -> ZooKeeperServer? in defer { s = zks }; return s }
        zks?.factory = self
        if let old, old !== zks { closeAll() }
    }

    public var zooKeeperServer: ZooKeeperServer? { server.withLockedValue { $0 } }

    /// Closes every client connection (the server behind them is going away).
    public func closeAll() {
        for c in connections() { c.close(reason: "server role change") }
    }

    public var localAddress: SocketAddress? { serverChannel?.localAddress }

    public func start(host: String, port: Int) throws {
        let maxFrame = config.juteMaxBuffer
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // TCP_NODELAY is an IPPROTO_TCP option: as a SOL_SOCKET option its number is
            // SO_DEBUG, which an unprivileged server may not set (every accept then fails).
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ZKFrameDecoder(maxFrameBytes: maxFrame)))
                    try channel.pipeline.syncOperations.addHandler(ServerCnxnHandler(zks: zooKeeperServer, factory: self))
                }
            }
        serverChannel = try bootstrap.bind(host: host, port: port).wait()
    }

    /// Closes the listening socket; connections already open carry on.
    public func stopAccepting() {
        try? serverChannel?.close().wait()
    }

    public func shutdown() {
        stopAccepting()
        for c in connections() { c.channel.close(promise: nil) }
        try? group.syncShutdownGracefully()
    }

    /// False when the address already has maxClientCnxns connections.
    func register(_ c: ServerCnxn) -> Bool {
        let max = config.maxClientCnxns
        return lock.withLock {
            let n = perIP[c.remoteIP, default: 0]
            if max > 0 && n >= max { return false }
            perIP[c.remoteIP] = n + 1
            cnxns[ObjectIdentifier(c)] = c
            return true
        }
    }

    func unregister(_ c: ServerCnxn) {
        lock.withLock {
            guard cnxns.removeValue(forKey: ObjectIdentifier(c)) != nil else { return }
            let n = perIP[c.remoteIP, default: 1] - 1
            perIP[c.remoteIP] = n > 0 ? n : nil
            let sid = c.sessionId
            if sid != 0, bySession[sid] === c { bySession[sid] = nil }
            throttled.removeAll { $0 === c }
        }
    }

    public func bindSession(_ c: ServerCnxn, _ sessionId: Int64) {
        lock.withLock { bySession[sessionId] = c }
    }

    /// Closes the connection bound to a session (expiry, or a reconnect elsewhere).
    @discardableResult
    public func closeSession(_ sessionId: Int64, except: ServerCnxn? = nil) -> Bool {
        let c: ServerCnxn? = lock.withLock {
            guard let c = bySession[sessionId], c !== except else { return nil }
            bySession[sessionId] = nil
            return c
        }
        c?.close(reason: "session closed")
        return c != nil
    }

    public func connections() -> [ServerCnxn] { lock.withLock { Array(cnxns.values) } }

    public var connectionCount: Int { lock.withLock { cnxns.count } }

    func throttle(_ c: ServerCnxn) { lock.withLock { throttled.append(c) } }

    /// Resumes reading on every throttled connection once the backlog has drained.
    func unthrottleAll() {
        let list: [ServerCnxn] = lock.withLock { let l = throttled; throttled = []; return l }
        for c in list { c.channel.pipeline.fireUserInboundEventTriggered(Unthrottle()) }
    }

    public var hasThrottled: Bool { lock.withLock { !throttled.isEmpty } }
}
