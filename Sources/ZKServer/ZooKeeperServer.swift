// The standalone server: builds the Prep -> Sync -> Final chain, owns the
// database, session tracker and counters, and handles what happens before a
// request enters the chain: the connect handshake and auth packets
// (ZooKeeperServer in Apache ZooKeeper).
import Logging
import NIOCore
import NIOConcurrencyHelpers
import ZKData
import ZKJute
import ZKPersistence
#if canImport(Glibc)
import Glibc
#endif

public final class ZooKeeperServer: SessionExpirer, @unchecked Sendable {
    public let config: ServerConfig
    public let zkDb: ZKDatabase
    public let outstandingChanges = OutstandingChanges()
    public let serverStats = ServerStats()
    public let startTime = Clock.monotonicMillis()
    /// Set once by the factory's start(), before any connection arrives.
    public internal(set) weak var factory: NIOServerCnxnFactory?
    public private(set) var sessionTracker: SessionTracker!
    private var firstProcessor: PrepRequestProcessor!
    private var containerManager: ContainerManager?
    private var cleanupManager: DatadirCleanupManager?
    private var snapLog: FileTxnSnapLog!
    private var restoredSessions: [Int64: Int32] = [:]
    private let hzxid = NIOLockedValueBox<Int64>(0)
    private let inProcess = NIOLockedValueBox<Int>(0)
    private let logger = Logger(label: "zkswiftd.ZooKeeperServer")
    /// Standalone servers use 1 in the top byte of session ids, whatever myid says.
    public static let standaloneServerId: Int64 = 1

    public init(config: ServerConfig) {
        self.config = config
        zkDb = ZKDatabase(extendedTypesEnabled: config.extendedTypesEnabled)
    }

    /// Recovers the database from the data directory: newest valid snapshot,
    /// then the logs after it; then writes a fresh snapshot, as Apache does at
    /// every start. Throws on corruption it must not guess about.
    public func loadData() throws {
        let snapLog = try FileTxnSnapLog(dataDir: config.dataDir, dataLogDir: config.dataLogDir)
        self.snapLog = snapLog
        let started = Clock.monotonicMillis()
        let r = try snapLog.restore(extendedTypesEnabled: config.extendedTypesEnabled,
                                    maxRecordBytes: config.juteMaxBuffer * 2 + 1024)
        let orphans = r.tree.removeOrphanEphemerals(liveSessions: Set(r.sessions.keys))
        zkDb.replace(with: r.tree)
        restoredSessions = r.sessions
        logger.info("Recovered \(r.tree.nodeCount) nodes and \(r.sessions.count) sessions up to zxid 0x\(String(r.lastZxid, radix: 16)) in \(Clock.monotonicMillis() - started) ms (\(r.replayed) txns replayed)")
        if !orphans.isEmpty { logger.info("Removed \(orphans.count) ephemeral nodes of sessions that no longer exist") }
        _ = try SnapshotWriter.write(db: zkDb, sessions: r.sessions.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 },
                                     to: snapLog, fsync: config.forceSync,
                                     digestEnabled: config.digestEnabled, compression: config.snapshotCompression)
    }

    /// Background snapshot (SnapshotThread); a failure is logged, the log still holds everything.
    func takeSnapshot() {
        let sessions = sessionTracker.allSessions().map { ($0.id, $0.timeout) }.sorted { $0.0 < $1.0 }
        do {
            let started = Clock.monotonicMillis()
            let (zxid, nodes) = try SnapshotWriter.write(db: zkDb, sessions: sessions, to: snapLog, fsync: config.forceSync,
                                                         digestEnabled: config.digestEnabled,
                                                         compression: config.snapshotCompression)
            logger.info("Snapshot of \(nodes) nodes at zxid 0x\(String(zxid, radix: 16)) written in \(Clock.monotonicMillis() - started) ms")
        } catch {
            logger.error("Snapshot failed: \(error)")
        }
    }

    /// An error that would put acknowledged data at risk: log it and stop.
    func fatal(_ message: String) -> Never {
        logger.critical("\(message); exiting")
        exit(1)
    }

    public func startup() {
        sessionTracker = SessionTracker(tickTime: config.tickTime, serverId: Self.standaloneServerId, expirer: self)
        for (id, timeout) in restoredSessions { sessionTracker.trackSession(id, timeout: timeout) }
        hzxid.withLockedValue { $0 = zkDb.lastProcessedZxid }
        let final = FinalRequestProcessor(zks: self)
        let txnLog = FileTxnLog(dir: snapLog.logDir, preAllocSize: config.preAllocSizeBytes, forceSync: config.forceSync,
                                lastZxid: zkDb.lastProcessedZxid)
        let sync = SyncRequestProcessor(zks: self, next: final, txnLog: txnLog)
        let prep = PrepRequestProcessor(zks: self, next: sync)
        firstProcessor = prep
        sync.start()
        prep.start()
        sessionTracker.start()
        let cm = ContainerManager(zks: self)
        cm.start()
        containerManager = cm
        // After loadData, so the first purge already counts the snapshot it wrote.
        let purge = DatadirCleanupManager(snapDir: snapLog.snapDir, logDir: snapLog.logDir,
                                          retainCount: config.autopurgeSnapRetainCount,
                                          intervalHours: config.autopurgeIntervalHours)
        purge.start()
        cleanupManager = purge
    }

    public func shutdown() {
        containerManager?.shutdown()
        cleanupManager?.shutdown()
        sessionTracker?.shutdown()
        firstProcessor?.shutdown()
    }

    public func nextZxid() -> Int64 { hzxid.withLockedValue { $0 += 1; return $0 } }

    public var outstandingRequests: Int { inProcess.withLockedValue { $0 } }

    public var shouldThrottle: Bool { outstandingRequests > config.globalOutstandingLimit }

    func requestFinished() {
        let n = inProcess.withLockedValue { $0 -= 1; return $0 }
        if n < config.globalOutstandingLimit, let f = factory, f.hasThrottled { f.unthrottleAll() }
    }

    // MARK: handshake

    struct ConnectRefused: Error, CustomStringConvertible { let description: String }

    /// Reads the ConnectRequest and starts a new session or resumes one; the
    /// reply goes out from finishSessionInit once the session is settled.
    func processConnectRequest(_ cnxn: ServerCnxn, _ frame: ByteBuffer) throws {
        var b = frame
        let req: ConnectRequest
        do { req = try ConnectRequest(from: &b) } catch { throw ConnectRefused(description: "malformed connect request (\(error))") }
        if let ro = try? b.readJuteBool() {
            cnxn.isOldClient = false
            _ = ro
        } else {
            cnxn.isOldClient = true
        }
        let last = zkDb.lastProcessedZxid
        if req.lastZxidSeen > last {
            throw ConnectRefused(description: "client has seen zxid 0x\(String(req.lastZxidSeen, radix: 16)) our last zxid is 0x\(String(last, radix: 16)); client must try another server")
        }
        var timeout = Int(req.timeOut)
        timeout = max(timeout, config.effectiveMinSessionTimeout)
        timeout = min(timeout, config.effectiveMaxSessionTimeout)
        cnxn.sessionTimeout = Int32(timeout)
        if req.sessionId == 0 {
            let id = sessionTracker.createSession(timeout: Int32(timeout))
            cnxn.sessionId = id
            factory?.bindSession(cnxn, id)
            var body = ByteBuffer()
            body.writeInteger(Int32(timeout))
            submitRequest(Request(cnxn: cnxn, sessionId: id, cxid: 0, type: OpCode.createSession.rawValue, body: body, authInfo: cnxn.authInfo))
        } else {
            let id = req.sessionId
            factory?.closeSession(id, except: cnxn)
            cnxn.sessionId = id
            if req.passwd == SessionPassword.generate(id) {
                let ok = sessionTracker.touchSession(id, timeout: Int32(timeout))
                if ok { factory?.bindSession(cnxn, id) }
                finishSessionInit(cnxn, valid: ok)
            } else {
                logger.warning("Incorrect password from \(cnxn.remoteDescription) for session 0x\(String(id, radix: 16))")
                finishSessionInit(cnxn, valid: false)
            }
        }
    }

    /// Sends the ConnectResponse; an invalid session gets zeros and is closed.
    func finishSessionInit(_ cnxn: ServerCnxn, valid: Bool) {
        let id = cnxn.sessionId
        let resp = ConnectResponse(timeOut: valid ? cnxn.sessionTimeout : 0, sessionId: valid ? id : 0,
                                   passwd: valid ? SessionPassword.generate(id) : [UInt8](repeating: 0, count: 16))
        var buf = cnxn.channel.allocator.buffer(capacity: 48)
        buf.writeInteger(Int32(0))
        resp.write(to: &buf)
        if !cnxn.isOldClient { buf.writeJuteBool(false) }
        buf.setInteger(Int32(buf.readableBytes - 4), at: 0)
        cnxn.sendBuffer(buf)
        if valid {
            logger.debug("Established session 0x\(String(id, radix: 16)) with negotiated timeout \(cnxn.sessionTimeout) for client \(cnxn.remoteDescription)")
        } else {
            logger.info("Invalid session 0x\(String(id, radix: 16)) for client \(cnxn.remoteDescription), probably expired")
            cnxn.close(reason: "invalid session")
        }
        cnxn.channel.pipeline.fireUserInboundEventTriggered(SessionReady(valid: valid))
    }

    // MARK: packets

    /// One frame of an established session. False when the connection is being closed.
    func processPacket(_ cnxn: ServerCnxn, _ frame: ByteBuffer) -> Bool {
        var b = frame
        guard let h = try? RequestHeader(from: &b) else {
            logger.warning("Closing connection from \(cnxn.remoteDescription): malformed request header")
            cnxn.close(reason: "bad header")
            return false
        }
        switch h.type {
        case OpCode.auth.rawValue:
            return processAuth(cnxn, h, b)
        case OpCode.sasl.rawValue:
            // No SASL mechanism is configured: like Apache without a JAAS section,
            // answer OK with no token and add no identity.
            var sb = b
            guard (try? SASLRecord(from: &sb)) != nil else {
                logger.warning("Closing connection from \(cnxn.remoteDescription): malformed SASL request")
                cnxn.close(reason: "bad sasl packet")
                return false
            }
            logger.warning("SASL token from \(cnxn.remoteDescription) ignored: SASL is not configured")
            cnxn.sendResponse(ReplyHeader(xid: h.xid, zxid: 0, err: 0), SASLRecord(token: nil))
            return true
        default:
            if !Request.isValid(h.type) {
                logger.warning("Received packet of unknown type \(h.type) from \(cnxn.remoteDescription)")
                cnxn.sendResponse(ReplyHeader(xid: h.xid, zxid: -1, err: KeeperCode.unimplemented.rawValue), nil)
                cnxn.close(reason: "unimplemented")
                return false
            }
            submitRequest(Request(cnxn: cnxn, sessionId: cnxn.sessionId, cxid: h.xid, type: h.type, body: b, authInfo: cnxn.authInfo))
            return true
        }
    }

    private func processAuth(_ cnxn: ServerCnxn, _ h: RequestHeader, _ body: ByteBuffer) -> Bool {
        var b = body
        var ok = false
        guard let p = try? AuthPacket(from: &b) else {
            // A record that does not parse is a broken client: close, no reply.
            logger.warning("Closing connection from \(cnxn.remoteDescription): malformed auth packet")
            cnxn.close(reason: "bad auth packet")
            return false
        }
        let scheme = p.scheme
        switch scheme {
        case "digest":
            let digest = AuthScheme.digest(String(decoding: p.auth ?? [], as: UTF8.self))
            if let sd = config.superDigest, sd == digest { cnxn.addAuthInfo(Id(scheme: "super", id: "")) }
            cnxn.addAuthInfo(Id(scheme: "digest", id: digest))
            ok = true
        case "ip":
            cnxn.addAuthInfo(Id(scheme: "ip", id: cnxn.remoteIP))
            ok = true
        default:
            ok = false
        }
        if ok {
            logger.debug("Session 0x\(String(cnxn.sessionId, radix: 16)): auth success for scheme \(scheme) and address \(cnxn.remoteDescription)")
            cnxn.sendResponse(ReplyHeader(xid: h.xid, zxid: 0, err: 0), nil)
            return true
        }
        logger.warning("Authentication failed for scheme \(scheme) from \(cnxn.remoteDescription)")
        cnxn.sendResponse(ReplyHeader(xid: h.xid, zxid: 0, err: KeeperCode.authFailed.rawValue), nil)
        cnxn.close(reason: "auth failed")
        return false
    }

    /// Touches the session and queues the request; packets of unknown or
    /// closing sessions are dropped, as Apache does.
    func submitRequest(_ r: Request) {
        if let cnxn = r.cnxn {
            guard sessionTracker.touchSession(r.sessionId, timeout: cnxn.sessionTimeout) else {
                logger.debug("Dropping request type \(r.type): no session 0x\(String(r.sessionId, radix: 16))")
                return
            }
            cnxn.requestQueued()
            inProcess.withLockedValue { $0 += 1 }
        }
        firstProcessor.processRequest(r)
    }

    // MARK: session end

    public func expire(sessionId: Int64, timeout: Int32) {
        logger.info("Expiring session 0x\(String(sessionId, radix: 16)), timeout of \(timeout)ms exceeded")
        submitRequest(Request(cnxn: nil, sessionId: sessionId, cxid: 0, type: OpCode.closeSession.rawValue,
                              body: ByteBuffer(), authInfo: []))
    }

    func closeConnection(sessionId: Int64) {
        factory?.closeSession(sessionId)
    }

    /// A closed connection's watches go; its session lives on until it expires.
    func connectionClosed(_ cnxn: ServerCnxn) {
        zkDb.withTree { $0.removeCnxn(cnxn) }
    }

    /// Server-internal requests (container and TTL reaping) enter the chain here.
    func submitInternal(type: OpCode, body: ByteBuffer) {
        submitRequest(Request(cnxn: nil, sessionId: 0, cxid: 0, type: type.rawValue, body: body, authInfo: []))
    }
}
