// A follower or observer (Learner, Follower.followLeader,
// Observer.observeLeader), run on the QuorumPeer thread: connect to the
// leader, register, sync (DIFF, TRUNC or SNAP, as LearnerSyncState says),
// then start the server and handle the leader's packets until the
// connection fails or goes quiet for syncLimit ticks.
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ZKData
import ZKJute
import ZKPersistence
import ZKServer

public final class Learner: @unchecked Sendable {
    let peer: QuorumPeerConfig
    let isObserver: Bool
    private let zkDb: ZKDatabase
    private let snapLog: FileTxnSnapLog
    private let epochFiles: EpochFiles
    private let factory: NIOServerCnxnFactory
    private var conn: LearnerConnection?
    private(set) var zk: LearnerZooKeeperServer!
    /// The leader followed now; read by the AdminServer's threads.
    let leaderServer = NIOLockedValueBox<QuorumServer?>(nil)
    private let logger: Logger
    private var initLimitMs: Int { peer.initLimit * peer.server.tickTime }
    private var syncLimitMs: Int { peer.syncLimit * peer.server.tickTime }
    private var maxPacketBytes: Int { peer.server.juteMaxBuffer * 2 + 1024 }

    init(peer: QuorumPeerConfig, observer: Bool, zkDb: ZKDatabase, snapLog: FileTxnSnapLog, factory: NIOServerCnxnFactory,
         epochFiles: EpochFiles) {
        self.peer = peer
        isObserver = observer
        self.zkDb = zkDb
        self.snapLog = snapLog
        self.epochFiles = epochFiles
        self.factory = factory
        var logger = Logger(label: observer ? "zkswiftd.Observer" : "zkswiftd.Follower")
        logger[metadataKey: "myid"] = "\(peer.myid)"
        self.logger = logger
        zk = LearnerZooKeeperServer(config: peer.server, zkDb: zkDb, snapLog: snapLog, myid: peer.myid, observer: observer,
                                    observerSyncEnabled: peer.observerSyncEnabled, learner: self)
    }

    /// Sends to the leader from any thread; a failed write shows up as a failed read.
    func send(_ p: QuorumPacket) {
        do { try conn?.send(p) } catch { logger.debug("Send to the leader failed: \(error)") }
    }

    /// Follows (or observes) `leader` until the connection ends; always throws then.
    func followLeader(_ leader: QuorumServer, onServing: (LearnerZooKeeperServer) -> Void) throws {
        logger.info("\(isObserver ? "OBSERVING" : "FOLLOWING") - LEADER ELECTION TOOK - leader is \(leader.id) at \(leader.host):\(leader.quorumPort)")
        leaderServer.withLockedValue { $0 = leader }
        let c = try LearnerConnection.connect(host: leader.host, port: leader.quorumPort, totalMs: initLimitMs, maxBytes: maxPacketBytes)
        conn = c
        try c.setReadTimeout(ms: initLimitMs)
        let accepted = try epochFiles.read(EpochFiles.accepted) ?? 0
        let current = try epochFiles.read(EpochFiles.current) ?? 0
        let reg = try c.register(myid: peer.myid, observer: isObserver, acceptedEpoch: accepted, currentEpoch: current,
                                 lastLoggedZxid: zkDb.lastProcessedZxid, configVersion: peer.view.version,
                                 persistAcceptedEpoch: { [epochFiles] e in try epochFiles.write(EpochFiles.accepted, e) })
        try syncWithLeader(c, reg)
        onServing(zk)
        try c.setReadTimeout(ms: syncLimitMs)
        while true { try processPacket(try c.read()) }
    }

    private struct Stashed {
        var hdr: TxnHeader
        var txn: Txn
        var digest: TxnDigest?
    }

    private func decode(_ p: QuorumPacket) throws -> Stashed {
        let r = try TxnLogFormat.decodePayload(ByteBuffer(bytes: p.data ?? []), offset: 0)
        return Stashed(hdr: r.hdr, txn: r.txn, digest: r.digest)
    }

    private func syncWithLeader(_ c: LearnerConnection, _ reg: LearnerConnection.Registration) throws {
        let first = try c.read()
        let header: LearnerSyncState.Header
        switch first.packetType {
        case .diff?:
            header = .diff
            logger.info("Getting a diff from the leader 0x\(String(first.zxid, radix: 16))")
        case .snap?:
            header = .snap
            logger.info("Getting a snapshot from leader 0x\(String(first.zxid, radix: 16))")
            let loaded = try LearnerSnapshot.read(c.stream, extendedTypesEnabled: peer.server.extendedTypesEnabled)
            loaded.tree.setLastProcessedZxid(first.zxid)
            zkDb.replace(with: loaded.tree)
            zkDb.sessions.withLockedValue { $0 = loaded.sessions }
        case .trunc?:
            header = .trunc
            logger.warning("Truncating log to get in sync with the leader 0x\(String(first.zxid, radix: 16))")
            try snapLog.truncateLog(to: first.zxid, maxRecordBytes: maxPacketBytes)
            try QuorumPeer.reload(zkDb, config: peer)
        default:
            throw LearnerConnection.RegistrationFailed(description: "expected DIFF, SNAP or TRUNC from the leader, got packet type \(first.type)")
        }
        var state = LearnerSyncState(header: header, newLeaderZxid: reg.newLeaderZxid, isObserver: isObserver)
        var stash: [Int64: Stashed] = [:]
        var txnLog: FileTxnLog? = nil
        var loggedBeforeAck: [Int64] = []
        var serving = false
        var warned = 0
        while !state.done {
            let p = try c.read()
            guard let type = p.packetType else { continue }
            if type == .proposal || type == .inform { stash[p.zxid] = try decode(p) }
            let actions: [LearnerSyncState.Action]
            do {
                actions = try state.receive(type: type, zxid: p.zxid, newLeaderZxid: reg.newLeaderZxid)
            } catch {
                throw LearnerConnection.RegistrationFailed(description: "during sync: \(error)")
            }
            for w in state.warnings.dropFirst(warned) { logger.warning("\(w)") }
            warned = state.warnings.count
            for a in actions {
                switch a {
                case .apply(let z):
                    guard let s = stash.removeValue(forKey: z) else { continue }
                    if serving {
                        zk.commitInformed(Request.committed(s.hdr, s.txn, digest: s.digest))
                    } else {
                        _ = zkDb.applyTxn(s.hdr, s.txn, digest: s.digest)
                    }
                case .log(let z):
                    guard let s = stash.removeValue(forKey: z) else { continue }
                    let r = Request.committed(s.hdr, s.txn, digest: s.digest)
                    if serving {
                        zk.logRequest(r)
                    } else {
                        if txnLog == nil { txnLog = zk.makeTxnLog() }
                        try txnLog!.append(s.hdr, s.txn, digest: s.digest)
                        zk.queuePending(r)
                        loggedBeforeAck.append(z)
                    }
                case .commit(let z):
                    try zk.commit(zxid: z)
                case .takeSnapshot(let syncSnapshot):
                    try zk.writeSnapshot(fsync: syncSnapshot || peer.server.forceSync)
                    if header == .snap { try snapLog.discardHistory(after: zkDb.lastProcessedZxid) }
                case .setCurrentEpoch(let e):
                    try epochFiles.write(EpochFiles.current, e)
                case .ack(let z):
                    // Nothing is promised before it is on disk.
                    if let log = txnLog { _ = try log.commit() }
                    try c.send(QuorumPacket(.ack, zxid: z))
                    if Zxid.counter(z) == 0 && z == reg.newLeaderZxid {
                        // The proposals logged with NEWLEADER may still be waiting for a quorum.
                        for l in loggedBeforeAck { try c.send(QuorumPacket(.ack, zxid: l)) }
                        loggedBeforeAck.removeAll()
                    }
                case .startServing:
                    txnLog?.close()
                    txnLog = nil
                    zk.startup()
                    factory.setZooKeeperServer(zk)
                    serving = true
                    logger.info("Synced with the leader at 0x\(String(zkDb.lastProcessedZxid, radix: 16)); serving clients")
                }
            }
        }
        txnLog?.close()
    }

    private func processPacket(_ p: QuorumPacket) throws {
        switch p.packetType {
        case .ping?:
            try conn?.send(QuorumPacket(.ping, zxid: p.zxid, data: SessionTouches.encode(zk.learnerTracker.snapshot())))
        case .proposal?:
            guard !isObserver else { return }
            let s = try decode(p)
            zk.logRequest(Request.committed(s.hdr, s.txn, digest: s.digest))
        case .commit?:
            guard !isObserver else { return }
            try zk.commit(zxid: p.zxid)
        case .inform?:
            let s = try decode(p)
            zk.commitInformed(Request.committed(s.hdr, s.txn, digest: s.digest))
        case .sync?:
            zk.syncAnswered()
        case .revalidate?:
            let (sessionId, valid) = try Revalidate.readReply(p.data ?? [])
            zk.revalidated(sessionId: sessionId, valid: valid)
        default:
            logger.debug("Ignoring packet type \(p.type) from the leader")
        }
    }

    /// Closes the connection and stops the server (after followLeader returned).
    func shutdown() {
        conn?.close()
        factory.setZooKeeperServer(nil)
        if zk.isRunning { zk.shutdown() }
    }
}
