// One client connection as the rest of the server sees it: its session, auth
// ids and counters, and the thread-safe way to send it replies and watch
// events (ServerCnxn in Apache ZooKeeper). Writes are scheduled on the
// connection's event loop, so replies and events leave in the order queued.
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import ZKData
import ZKJute

public final class ServerCnxn: Watcher, @unchecked Sendable {
    public let channel: any Channel
    public let remoteIP: String
    public let remotePort: Int
    /// Wall-clock ms when accepted (cons' `est`).
    public let established: Int64

    public struct Stats: Sendable {
        public var received: Int64 = 0
        public var sent: Int64 = 0
        public var lastOp = "NA"
        public var lastCxid: Int32 = -1
        public var lastZxid: Int64 = -1
        public var lastResponseTime: Int64 = 0
        public var lastLatency: Int64 = 0
        /// Monotonic ms of the last packet in (connection expiry, `dump`).
        public var lastActivity: Int64 = Clock.monotonicMillis()
        public var minLatency: Int64 = Int64.max
        public var maxLatency: Int64 = 0
        public var totalLatency: Int64 = 0
        public var count: Int64 = 0
    }

    // all below guarded by `lock`
    private let lock = NIOLock()
    private var _sessionId: Int64 = 0
    private var _sessionTimeout: Int32 = 0
    private var _authInfo: [Id]
    private var _stats = Stats()
    private var _outstanding = 0
    private var _isOldClient = false
    private var _isFourLetterWord = false
    private let serverStats: ServerStats

    init(channel: any Channel, serverStats: ServerStats) {
        self.channel = channel
        self.serverStats = serverStats
        let addr = channel.remoteAddress
        remoteIP = addr?.ipAddress ?? "0.0.0.0"
        remotePort = addr?.port ?? 0
        established = Clock.wallMillis()
        _authInfo = [Id(scheme: "ip", id: remoteIP)]
    }

    public var remoteDescription: String { "/\(remoteIP):\(remotePort)" }

    public var sessionId: Int64 {
        get { lock.withLock { _sessionId } }
        set { lock.withLock { _sessionId = newValue } }
    }
    public var sessionTimeout: Int32 {
        get { lock.withLock { _sessionTimeout } }
        set { lock.withLock { _sessionTimeout = newValue } }
    }
    public var authInfo: [Id] { lock.withLock { _authInfo } }
    /// Sent a ConnectRequest without the readOnly byte; its reply omits it too.
    public var isOldClient: Bool {
        get { lock.withLock { _isOldClient } }
        set { lock.withLock { _isOldClient = newValue } }
    }
    /// A four-letter-word probe rather than a client session.
    public var isFourLetterWord: Bool {
        get { lock.withLock { _isFourLetterWord } }
        set { lock.withLock { _isFourLetterWord = newValue } }
    }
    public var stats: Stats { lock.withLock { _stats } }
    public var outstanding: Int { lock.withLock { _outstanding } }

    public func addAuthInfo(_ id: Id) {
        lock.withLock { if !_authInfo.contains(id) { _authInfo.append(id) } }
    }

    func packetReceived() {
        lock.withLock {
            _stats.received += 1
            _stats.lastActivity = Clock.monotonicMillis()
        }
        serverStats.packetReceived()
    }

    func requestQueued() { lock.withLock { _outstanding += 1 } }

    public func resetStats() { lock.withLock { _stats = Stats() } }

    func updateStatsForResponse(cxid: Int32, zxid: Int64, op: String, start: Int64) {
        let now = Clock.monotonicMillis()
        lock.withLock {
            _outstanding = max(0, _outstanding - 1)
            if cxid >= 0 { _stats.lastCxid = cxid }
            _stats.lastZxid = zxid
            _stats.lastOp = op
            _stats.lastResponseTime = now
            let lat = now - start
            _stats.lastLatency = lat
            _stats.minLatency = min(_stats.minLatency, lat)
            _stats.maxLatency = max(_stats.maxLatency, lat)
            _stats.totalLatency += lat
            _stats.count += 1
        }
    }

    /// Frames a reply: length, ReplyHeader, then the record if any.
    public func sendResponse(_ hdr: ReplyHeader, _ body: (any JuteRecord)?) {
        var buf = channel.allocator.buffer(capacity: 64)
        buf.writeInteger(Int32(0))
        hdr.write(to: &buf)
        body?.write(to: &buf)
        buf.setInteger(Int32(buf.readableBytes - 4), at: 0)
        sendBuffer(buf)
    }

    public func sendBuffer(_ buf: ByteBuffer) {
        lock.withLock { _stats.sent += 1 }
        serverStats.packetSent(bytes: buf.readableBytes - 4)
        channel.writeAndFlush(buf, promise: nil)
    }

    /// Closes after everything already queued has been written.
    public func close(reason: String) {
        let ch = channel
        ch.writeAndFlush(ch.allocator.buffer(capacity: 0)).whenComplete { _ in ch.close(promise: nil) }
    }

    // MARK: Watcher

    /// Events go out only to connections that may read the node (ZOOKEEPER-4799).
    public func process(_ event: WatcherEvent, acl: [ACL]?) {
        if let acl, !AuthScheme.checkACL(acl, perm: Perms.read, ids: authInfo) { return }
        sendResponse(ReplyHeader(xid: SpecialXid.notification, zxid: -1, err: 0), event)
    }
}
