// The standalone server: builds the Prep -> Sync -> Final chain, owns the
// database, session tracker and counters, and handles what happens before a
// request enters the chain: the connect handshake and auth packets
// (ZooKeeperServer in Apache ZooKeeper). The ensemble roles subclass it and
// replace the chain, the session bookkeeping and revalidation.
import Logging
import NIOCore
import NIOConcurrencyHelpers
import ZKData
import ZKJute
import ZKPersistence
#if canImport(Glibc)
import Glibc
#endif

open class ZooKeeperServer: SessionExpirer, @unchecked Sendable {
    public let config: ServerConfig
    public let zkDb: ZKDatabase
    public let outstandingChanges = OutstandingChanges()
    public let serverStats = ServerStats()
    public let startTime = Clock.monotonicMillis()
    /// Set once by the factory before any connection of this server arrives.
    public internal(set) weak var factory: NIOServerCnxnFactory?
    public private(set) var sessionTracker: SessionTracker!
    private var firstProcessor: (any RequestProcessor)!
    private var containerManager: ContainerManager?
    public private(set) var snapLog: FileTxnSnapLog!
    private let hzxid = NIOLockedValueBox<Int64>(0)
    private let inProcess = NIOLockedValueBox<Int>(0)
    private let runState = NIOLockedValueBox(false)
    private let logger = Logger(label: "zkswiftd.ZooKeeperServer")
    /// Standalone servers use 1 in the top byte of session ids, whatever myid says.
    public static let standaloneServerId: Int64 = 1

    public init(config: ServerConfig) {
        self.config = config
        zkDb = ZKDatabase(extendedTypesEnabled: config.extendedTypesEnabled)
    }

    /// A server for one ensemble role, over the database the peer recovered once.
    public init(config: ServerConfig, zkDb: ZKDatabase, snapLog: FileTxnSnapLog) {
        self.config = config
        self.zkDb = zkDb
        self.snapLog = snapLog
    }

    /// Recovers the database from the data directory: newest valid snapshot,
    /// then the logs after it (FileTxnSnapLog.restore, plus Apache's log line).
    @discardableResult
    public static func recover(config: ServerConfig, into db: ZKDatabase) throws -> (snapLog: FileTxnSnapLog, snapshotZxid: Int64) {
        let snapLog = try FileTxnSnapLog(dataDir: config.dataDir, dataLogDir: config.dataLogDir)
        let started = Clock.monotonicMillis()
        let r = try snapLog.restore(extendedTypesEnabled: config.extendedTypesEnabled,
                                    maxRecordBytes: config.juteMaxBuffer * 2 + 1024)
        let orphans = r.tree.removeOrphanEphemerals(liveSessions: Set(r.sessions.keys))
        db.replace(with: r.tree)
        db.sessions.withLockedValue { $0 = r.sessions }
        let logger = Logger(label: "zkswiftd.ZooKeeperServer")
        logger.info("Recovered \(r.tree.nodeCount) nodes and \(r.sessions.count) sessions up to zxid 0x\(String(r.lastZxid, radix: 16)) in \(Clock.monotonicMillis() - started) ms (\(r.replayed) txns replayed)")
        if !orphans.isEmpty { logger.info("Removed \(orphans.count) ephemeral nodes of sessions that no longer exist") }
        return (snapLog, r.snapshotZxid ?? 0)
    }

    /// Recovers the database, then writes a fresh snapshot, as Apache does at
    /// every standalone start. Throws on corruption it must not guess about.
    public func loadData() throws {
        snapLog = try Self.recover(config: config, into: zkDb).snapLog
        try Self.writeSnapshot(db: zkDb, to: snapLog, config: config, fsync: config.forceSync)
    }

    /// Background snapshot (SnapshotThread); a failure is logged, the log still holds everything.
    public func takeSnapshot() {
        do {
            try writeSnapshot(fsync: config.forceSync)
        } catch {
            logger.error("Snapshot failed: \(error)")
        }
    }

    /// Writes a snapshot of the database now; a learner synced by SNAP needs
    /// it on disk (fsync) before it acknowledges the new leader.
    public func writeSnapshot(fsync: Bool) throws {
        try Self.writeSnapshot(db: zkDb, to: snapLog, config: config, fsync: fsync)
    }

    public static func writeSnapshot(db: ZKDatabase, to snapLog: FileTxnSnapLog, config: ServerConfig, fsync: Bool) throws {
        let started = Clock.monotonicMillis()
        let (zxid, nodes) = try SnapshotWriter.write(db: db, sessions: db.sortedSessions(), to: snapLog, fsync: fsync,
                                                     digestEnabled: config.digestEnabled,
                                                     compression: config.snapshotCompression)
        db.lastSnapshot = (zxid, Clock.wallMillis() / 1000)
        Logger(label: "zkswiftd.ZooKeeperServer").info("Snapshot of \(nodes) nodes at zxid 0x\(String(zxid, radix: 16)) written in \(Clock.monotonicMillis() - started) ms")
    }

    /// An error that would put acknowledged data at risk: log it and stop.
    public func fatal(_ message: String) -> Never {
        logger.critical("\(message); exiting")
        exit(1)
    }

    // MARK: role hooks

    /// The top byte of the session ids this server hands out.
    open var serverId: Int64 { Self.standaloneServerId }

    /// "standalone", "leader", "follower" or "observer", as srvr and mntr print it.
    open var serverState: String { "standalone" }

    /// Builds and starts the request processor chain; returns its first stage.
    open func setupRequestProcessors() -> any RequestProcessor {
        let final = FinalRequestProcessor(zks: self)
        let sync = SyncRequestProcessor(zks: self, next: final, txnLog: makeTxnLog())
        let prep = PrepRequestProcessor(zks: self, next: sync)
        sync.start()
        prep.start()
        return prep
    }

    /// The txn log appending after everything this server's database holds.
    public func makeTxnLog() -> FileTxnLog {
        FileTxnLog(dir: snapLog.logDir, preAllocSize: config.preAllocSizeBytes, forceSync: config.forceSync,
                   lastZxid: zkDb.lastProcessedZxid)
    }

    /// Whether this server expires sessions and reaps containers (standalone
    /// and leader); learners leave both to the leader.
    open var ownsSessions: Bool { true }

    /// The owner a local client's requests carry (nil: no ownership checks).
    open var localOwner: ObjectIdentifier? { nil }

    /// A new session id for a connecting client.
    open func createSessionId(timeout: Int32) -> Int64 { sessionTracker.createSession(timeout: timeout) }

    /// Client traffic on a session; false drops the request (unknown or closing session).
    open func touch(sessionId: Int64, timeout: Int32) -> Bool {
        sessionTracker.touchSession(sessionId, timeout: timeout)
    }

    /// A client resuming a session on this server: answer through finishSessionInit.
    open func revalidateSession(_ cnxn: ServerCnxn, sessionId: Int64, timeout: Int32) {
        let ok = sessionTracker.touchSession(sessionId, timeout: timeout)
        if ok, let owner = localOwner { try? sessionTracker.setOwner(sessionId, owner: owner) }
        if ok { factory?.bindSession(cnxn, sessionId) }
        finishSessionInit(cnxn, valid: ok)
    }

    /// A createSession txn was applied (the database's session table has it already).
    open func sessionCommitted(_ id: Int64, timeout: Int32) {
        sessionTracker.commitSession(id, timeout: timeout)
    }

    /// A closeSession txn was applied.
    open func sessionRemoved(_ id: Int64) {
        sessionTracker.removeSession(id)
    }

    /// Extra `mntr` lines of the role (the leader's follower counts).
    open func monitorLines() -> [(String, String)] { [] }

    /// An ensemble member's part of the AdminServer's answers.
    open var quorumInfo: QuorumAdminInfo? { nil }

    /// A leader's proposal sizes, for server_stats.
    open var proposalSizes: BufferStats? { nil }

    // MARK: life cycle

    public var isRunning: Bool { runState.withLockedValue { $0 } }

    public func startup() {
        sessionTracker = SessionTracker(tickTime: config.tickTime, serverId: serverId, expirer: self)
        for (id, timeout) in zkDb.sessions.withLockedValue({ $0 }) { sessionTracker.trackSession(id, timeout: timeout) }
        hzxid.withLockedValue { $0 = max($0, zkDb.lastProcessedZxid) }
        firstProcessor = setupRequestProcessors()
        if ownsSessions {
            sessionTracker.start()
            let cm = ContainerManager(zks: self)
            cm.start()
            containerManager = cm
        }
        runState.withLockedValue { $0 = true }
    }

    open func shutdown() {
        runState.withLockedValue { $0 = false }
        containerManager?.shutdown()
        sessionTracker?.shutdown()
        firstProcessor?.shutdown()
    }

    /// Stages that requests reach other than through the first processor
    /// (a quorum server's SyncThread); the watchdog probes them too.
    open var sideChains: [any RequestProcessor] { [] }

    /// Sends a no-op down the client chain and every side chain; `done` runs
    /// once all of them have passed it to their last stage. Never runs if a
    /// stage is wedged, which is the point.
    public func probePipeline(_ done: @escaping @Sendable () -> Void) {
        guard let first = firstProcessor else { return }
        let chains = [first] + sideChains
        let left = NIOLockedValueBox(chains.count)
        for chain in chains {
            chain.processRequest(Request.probe {
                if left.withLockedValue({ $0 -= 1; return $0 }) == 0 { done() }
            })
        }
    }

    public func nextZxid() -> Int64 { hzxid.withLockedValue { $0 += 1; return $0 } }

    /// A new leader's zxids start at its epoch with counter 0.
    public func setZxid(_ zxid: Int64) { hzxid.withLockedValue { $0 = zxid } }

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
            let id = createSessionId(timeout: Int32(timeout))
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
                revalidateSession(cnxn, sessionId: id, timeout: Int32(timeout))
            } else {
                logger.warning("Incorrect password from \(cnxn.remoteDescription) for session 0x\(String(id, radix: 16))")
                finishSessionInit(cnxn, valid: false)
            }
        }
    }

    /// Sends the ConnectResponse; an invalid session gets zeros and is closed.
    public func finishSessionInit(_ cnxn: ServerCnxn, valid: Bool) {
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
    public func submitRequest(_ r: Request) {
        if let cnxn = r.cnxn {
            guard touch(sessionId: r.sessionId, timeout: cnxn.sessionTimeout) else {
                logger.debug("Dropping request type \(r.type): no session 0x\(String(r.sessionId, radix: 16))")
                return
            }
            cnxn.requestQueued()
            inProcess.withLockedValue { $0 += 1 }
            r.owner = localOwner
        }
        firstProcessor.processRequest(r)
    }

    // MARK: session end

    public func expire(sessionId: Int64, timeout: Int32) {
        logger.info("Expiring session 0x\(String(sessionId, radix: 16)), timeout of \(timeout)ms exceeded")
        submitRequest(Request(cnxn: nil, sessionId: sessionId, cxid: 0, type: OpCode.closeSession.rawValue,
                              body: ByteBuffer(), authInfo: []))
    }

    public func closeConnection(sessionId: Int64) {
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
