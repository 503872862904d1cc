// The leader's side of one learner connection (LearnerHandler): read
// FOLLOWERINFO/OBSERVERINFO, agree on the epoch, bring the learner up to date
// (DIFF, TRUNC or SNAP), wait for the NEWLEADER quorum, send UPTODATE, then
// pass what the learner sends (ACK, PING, REQUEST, REVALIDATE) to the leader.
// Reading runs on `LearnerHandler-N`; everything sent after the sync header
// goes through one queue drained by `LearnerSend-N`, so forwarded proposals
// keep their order behind the sync.
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ZKJute
import ZKServer

/// What a LearnerHandler needs from the leader (LearnerMaster in Apache).
/// The blocking calls wait at most initLimit ticks and throw on timeout.
public protocol LearnerMaster: AnyObject, Sendable {
    var myid: Int64 { get }
    /// The text NEWLEADER carries: the leader's configuration.
    var configText: String { get }
    /// initLimit and syncLimit, in milliseconds.
    var initLimitMs: Int { get }
    var syncLimitMs: Int { get }
    /// The largest buffer accepted from a learner.
    var maxPacketBytes: Int { get }
    func epochToPropose(sid: Int64, lastAcceptedEpoch: Int64) throws -> Int64
    func waitForEpochAck(sid: Int64, currentEpoch: Int64, lastZxid: Int64) throws
    /// Chooses the sync for a learner at `peerLastZxid` and, atomically with
    /// that choice, starts forwarding newer proposals to `handler`. The
    /// returned packets follow the header; for SNAP, `snapshot` is the database stream.
    func startSync(_ handler: LearnerHandler, peerLastZxid: Int64) -> LearnerHandler.SyncStart
    func waitForNewLeaderAck(sid: Int64, zxid: Int64) throws
    /// Called for every packet after UPTODATE.
    func processPacket(_ p: QuorumPacket, from handler: LearnerHandler)
    /// UPTODATE is queued: from here on the learner answers pings.
    func learnerSynced(_ handler: LearnerHandler)
    func removeLearner(_ handler: LearnerHandler)
}

extension LearnerMaster {
    public func learnerSynced(_ handler: LearnerHandler) {}
}

public final class LearnerHandler: @unchecked Sendable {
    public struct SyncStart {
        public var header: QuorumPacket
        public var snapshot: ByteBuffer?
        /// PROPOSAL/COMMIT pairs (or TRUNC then pairs) after the header.
        public var packets: [QuorumPacket]
        public init(header: QuorumPacket, snapshot: ByteBuffer?, packets: [QuorumPacket]) {
            self.header = header; self.snapshot = snapshot; self.packets = packets
        }
    }

    public let number: Int
    private let socket: BlockingSocket
    private let master: any LearnerMaster
    private let queue = CircularBlockingQueue<QuorumPacket>(capacity: 1 << 24)
    // `lock` guards sid, type, stopped and senderStarted.
    private let lock = NIOLock()
    private var _sid: Int64 = -1
    private var _type = LearnerType.participant
    private var stopped = false
    private let threads = ThreadTracker()
    private let logger: Logger

    public var sid: Int64 { lock.withLock { _sid } }
    /// "/host:port" of the learner, as Apache shows it.
    public var remoteAddress: String { "/" + socket.remoteAddress }
    public var learnerType: LearnerType { lock.withLock { _type } }

    init(number: Int, socket: BlockingSocket, master: any LearnerMaster) {
        self.number = number
        self.socket = socket
        self.master = master
        var logger = Logger(label: "zkswiftd.LearnerHandler")
        logger[metadataKey: "learner"] = "\(number)"
        self.logger = logger
    }

    func start() {
        threads.start("LearnerHandler-\(number)") { [self] in run() }
    }

    /// Queues a packet for the learner (forwarded proposals, commits, pings, SYNC).
    public func queuePacket(_ p: QuorumPacket) { queue.offer(p) }

    private func write(_ p: QuorumPacket) throws {
        var b = ByteBuffer()
        p.write(to: &b)
        try socket.writeAll(b)
    }

    private func run() {
        do {
            try serve()
        } catch {
            if !lock.withLock({ stopped }) {
                logger.warning("Learner \(sid) (handler \(number)) dropped: \(error)")
            }
        }
        shutdown()
    }

    private func serve() throws {
        let r = QuorumStreamReader(socket, maxBytes: master.maxPacketBytes)
        try socket.setReadTimeout(ms: master.initLimitMs)
        let first = try r.packet()
        guard first.packetType == .followerInfo || first.packetType == .observerInfo else {
            throw LearnerConnection.RegistrationFailed(description: "first packet is type \(first.type), not FOLLOWERINFO or OBSERVERINFO")
        }
        var data = ByteBuffer(bytes: first.data ?? [])
        let info = try LearnerInfo(from: &data)
        lock.withLock {
            _sid = info.serverId
            _type = first.packetType == .observerInfo ? .observer : .participant
        }
        let newEpoch = try master.epochToPropose(sid: info.serverId, lastAcceptedEpoch: Zxid.epoch(first.zxid))
        let newLeaderZxid = Zxid.make(epoch: newEpoch, counter: 0)
        try write(QuorumPacket(.leaderInfo, zxid: newLeaderZxid, data: EpochPayload.int(LearnerInfo.protocolVersion)))
        let ack = try r.packet()
        guard ack.packetType == .ackEpoch else {
            throw LearnerConnection.RegistrationFailed(description: "expected ACKEPOCH, got packet type \(ack.type)")
        }
        try master.waitForEpochAck(sid: info.serverId, currentEpoch: Int64(try EpochPayload.readInt(ack.data)), lastZxid: ack.zxid)

        let sync = master.startSync(self, peerLastZxid: ack.zxid)
        logger.info("Synchronizing learner \(info.serverId) from 0x\(String(ack.zxid, radix: 16)): \(sync.header.packetType.map { "\($0)" } ?? "?") 0x\(String(sync.header.zxid, radix: 16)), \(sync.packets.count) packets")
        try write(sync.header)
        if var snap = sync.snapshot { try socket.writeAll(snap); snap.clear() }
        for p in sync.packets { try write(p) }
        try write(QuorumPacket(.newLeader, zxid: newLeaderZxid, data: Array(master.configText.utf8)))
        threads.start("LearnerSend-\(number)") { [self] in sendPackets() }

        let nlAck = try r.packet()
        guard nlAck.packetType == .ack, nlAck.zxid == newLeaderZxid else {
            throw LearnerConnection.RegistrationFailed(description: "expected ACK of NEWLEADER 0x\(String(newLeaderZxid, radix: 16)), got type \(nlAck.type) 0x\(String(nlAck.zxid, radix: 16))")
        }
        try master.waitForNewLeaderAck(sid: info.serverId, zxid: nlAck.zxid)
        try socket.setReadTimeout(ms: master.syncLimitMs)
        queuePacket(QuorumPacket(.upToDate, zxid: -1))
        master.learnerSynced(self)
        while !lock.withLock({ stopped }) {
            master.processPacket(try r.packet(), from: self)
        }
    }

    private func sendPackets() {
        do {
            while !lock.withLock({ stopped }) {
                guard let p = queue.poll(timeoutMs: 500) else { continue }
                try write(p)
            }
        } catch {
            if !lock.withLock({ stopped }) { logger.info("Learner \(sid) (handler \(number)): send failed: \(error)") }
            socket.close()
        }
    }

    /// Closes the connection; the threads end on their own.
    public func shutdown() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        socket.close()
        queue.wakeAll()
        master.removeLearner(self)
    }
}

/// Accepts learners on the quorum port (LearnerCnxAcceptor, `LearnerCnxAcc`).
public final class LearnerCnxAcceptor: @unchecked Sendable {
    private let listener: BlockingListener
    private let master: any LearnerMaster
    // `lock` guards stopped and next.
    private let lock = NIOLock()
    private var stopped = false
    private var next = 0
    private let threads = ThreadTracker()
    private let logger = Logger(label: "zkswiftd.LearnerCnxAcceptor")

    public init(host: String?, port: Int, master: any LearnerMaster) throws {
        listener = try BlockingListener(host: host, port: port)
        self.master = master
    }

    public func start() {
        threads.start("LearnerCnxAcc") { [self] in
            while !lock.withLock({ stopped }) {
                do {
                    let s = try listener.accept(timeoutMs: 500)
                    let n = lock.withLock { next += 1; return next }
                    LearnerHandler(number: n, socket: s, master: master).start()
                } catch let e as SocketError where e.code == .timedOut {
                    continue
                } catch {
                    if !lock.withLock({ stopped }) { logger.warning("Accepting learners failed: \(error)") }
                    return
                }
            }
        }
    }

    public func halt() {
        lock.withLock { stopped = true }
        listener.close()
        _ = threads.waitForAll(timeoutMs: 2000)
    }
}
