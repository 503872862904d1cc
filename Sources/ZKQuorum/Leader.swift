// The leader's side of ZAB (Leader): discovery with the learners (epoch
// agreement through the LearnerHandlers), sync, then broadcast: proposals go
// to every synced follower, a quorum of acks commits them in order (COMMIT to
// followers, INFORM to observers), pings every half tick carry the learners'
// session touches back and prove the leader still leads. The decisions are
// EpochAgreement, ProposalTracker and LearnerSyncPlan; this class holds the
// lock, the sockets' handlers and the clock.
import Foundation
import Logging
import NIOCore
import ZKData
import ZKJute
import ZKPersistence
import ZKServer

public final class Leader: LearnerMaster, @unchecked Sendable {
    /// Who waits for a `sync`: a client of ours, or a learner (by its handler).
    enum SyncWaiter {
        case local(Request)
        case learner(ObjectIdentifier)
    }

    public struct Stopped: Error, CustomStringConvertible { public var description: String }

    public let myid: Int64
    let peer: QuorumPeerConfig
    let view: QuorumMaj
    public var configText: String { view.configText }
    public let initLimitMs: Int
    public let syncLimitMs: Int
    public var maxPacketBytes: Int { peer.server.juteMaxBuffer * 2 + 1024 }
    let epochFiles: EpochFiles
    private(set) var zk: LeaderZooKeeperServer!
    private let factory: NIOServerCnxnFactory
    private let logger: Logger

    // `cond` guards everything below.
    private let cond = NSCondition()
    private var agreement: EpochAgreement
    private var tracker: ProposalTracker<SyncWaiter>
    private var handlers: [ObjectIdentifier: LearnerHandler] = [:]
    /// Handlers past startSync: they get every new proposal or commit.
    private var forwarding: Set<ObjectIdentifier> = []
    /// Handlers past UPTODATE: they get pings and count for syncLimit.
    private var synced: Set<ObjectIdentifier> = []
    private var lastHeard: [ObjectIdentifier: Int64] = [:]
    /// Ping rounds sent to each learner and not yet answered, oldest first.
    private var pingsInFlight: [ObjectIdentifier: [Int64]] = [:]
    private var outstanding: [Int64: (request: Request, payload: [UInt8])] = [:]
    /// Committed, not yet in the tree, in zxid order.
    private var toBeApplied: [(zxid: Int64, payload: [UInt8])] = []
    private var lastProposed: Int64 = 0
    private var running = false
    private var stopReason: String? = nil
    private var pingSoon = false
    /// Sizes of the proposals' txns, as server_stats reports them.
    private var proposalSizes = BufferStats()
    var proposalSizeStats: BufferStats {
        cond.lock(); defer { cond.unlock() }
        return proposalSizes
    }

    init(peer: QuorumPeerConfig, zkDb: ZKDatabase, snapLog: FileTxnSnapLog, factory: NIOServerCnxnFactory, epochFiles: EpochFiles) {
        myid = peer.myid
        self.peer = peer
        view = peer.view
        initLimitMs = peer.initLimit * peer.server.tickTime
        syncLimitMs = peer.syncLimit * peer.server.tickTime
        self.epochFiles = epochFiles
        self.factory = factory
        agreement = EpochAgreement(myid: peer.myid, config: peer.view)
        let last = zkDb.lastProcessedZxid
        tracker = ProposalTracker(myid: peer.myid, config: peer.view, lastCommitted: last)
        lastProposed = last
        var logger = Logger(label: "zkswiftd.Leader")
        logger[metadataKey: "myid"] = "\(peer.myid)"
        self.logger = logger
        zk = LeaderZooKeeperServer(config: peer.server, zkDb: zkDb, snapLog: snapLog, myid: peer.myid, leader: self)
    }

    // MARK: discovery and sync (called by LearnerHandlers and lead())

    private func wait(_ what: String, until done: () -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: Double(initLimitMs) / 1000)
        while !done() {
            if let stopReason { throw Stopped(description: stopReason) }
            if !cond.wait(until: deadline) && !done() {
                throw Stopped(description: "timed out after \(initLimitMs) ms waiting for \(what)")
            }
        }
    }

    private func connectLocked(sid: Int64, lastAcceptedEpoch: Int64) throws {
        if let e = agreement.connect(sid: sid, lastAcceptedEpoch: lastAcceptedEpoch) {
            // The quorum is in: make the epoch durable before anyone hears it.
            try epochFiles.write(EpochFiles.accepted, e)
            cond.broadcast()
        }
    }

    public func epochToPropose(sid: Int64, lastAcceptedEpoch: Int64) throws -> Int64 {
        cond.lock(); defer { cond.unlock() }
        try connectLocked(sid: sid, lastAcceptedEpoch: lastAcceptedEpoch)
        try wait("a quorum of learners to connect") { !agreement.waitingForNewEpoch }
        return agreement.epoch
    }

    private var ownSummary: (currentEpoch: Int64, lastZxid: Int64) {
        (((try? epochFiles.read(EpochFiles.current)) ?? nil) ?? 0, zk.zkDb.lastProcessedZxid)
    }

    public func waitForEpochAck(sid: Int64, currentEpoch: Int64, lastZxid: Int64) throws {
        let mine = ownSummary
        cond.lock(); defer { cond.unlock() }
        if try agreement.ackEpoch(sid: sid, currentEpoch: currentEpoch, lastZxid: lastZxid, leader: mine) { cond.broadcast() }
        try wait("a quorum of epoch acks") { agreement.electionFinished }
    }

    public func startSync(_ handler: LearnerHandler, peerLastZxid: Int64) -> LearnerHandler.SyncStart {
        cond.lock(); defer { cond.unlock() }
        let id = ObjectIdentifier(handler)
        handlers[id] = handler
        // What the tree holds now, with the committed log that ends there; what
        // committed after it follows as PROPOSAL+COMMIT, what is still in flight as PROPOSAL.
        let (committed, lastProcessed) = zk.zkDb.committedState()
        let minCommitted = committed.first?.zxid ?? lastProcessed
        var onDisk: [CommittedLog.Proposal]? = nil
        if peerLastZxid < minCommitted {
            let limit = zk.snapLog.txnLogSizeLimit(snapshotSizeFactor: peer.snapshotSizeFactor)
            onDisk = (try? zk.snapLog.proposals(from: peerLastZxid, sizeLimit: limit, maxRecordBytes: maxPacketBytes))?
                .map { CommittedLog.Proposal(zxid: $0.zxid, payload: $0.payload) }
        }
        let plan = LearnerSyncPlan<CommittedLog.Proposal>.decide(
            peerLastZxid: peerLastZxid, lastProcessedZxid: lastProcessed, committedLog: committed, txnLog: onDisk, zxid: { $0.zxid })
        var start: LearnerHandler.SyncStart
        var base = lastProcessed
        if plan.snap {
            let (snap, treeZxid) = zk.zkDb.withTree { t -> (ByteBuffer, Int64) in
                var out = ByteBuffer()
                LearnerSnapshot.write(sessions: zk.zkDb.sortedSessions(), acls: t.aclCache.entries,
                                      nodes: LearnerSnapshot.serialize(t), to: &out)
                return (out, t.lastProcessedZxid)
            }
            start = .init(header: QuorumPacket(.snap, zxid: treeZxid), snapshot: snap, packets: [])
            base = treeZxid
        } else {
            var header = QuorumPacket(.diff, zxid: lastProcessed)
            var packets: [QuorumPacket] = []
            for (i, p) in plan.packets.enumerated() {
                switch p {
                case .diff(let z) where i == 0: header = QuorumPacket(.diff, zxid: z)
                case .trunc(let z) where i == 0: header = QuorumPacket(.trunc, zxid: z)
                case .diff(let z): packets.append(QuorumPacket(.diff, zxid: z))
                case .trunc(let z): packets.append(QuorumPacket(.trunc, zxid: z))
                case .proposal(let prop, let z):
                    packets.append(QuorumPacket(.proposal, zxid: z, data: prop.payload))
                    packets.append(QuorumPacket(.commit, zxid: z))
                }
            }
            start = .init(header: header, snapshot: nil, packets: packets)
        }
        for p in toBeApplied where p.zxid > base {
            start.packets.append(QuorumPacket(.proposal, zxid: p.zxid, data: p.payload))
            start.packets.append(QuorumPacket(.commit, zxid: p.zxid))
        }
        for z in outstanding.keys.sorted() where z > base {
            start.packets.append(QuorumPacket(.proposal, zxid: z, data: outstanding[z]!.payload))
        }
        forwarding.insert(id)
        lastHeard[id] = Clock.monotonicMillis()
        return start
    }

    public func waitForNewLeaderAck(sid: Int64, zxid: Int64) throws {
        cond.lock(); defer { cond.unlock() }
        if agreement.ackNewLeader(sid: sid, zxid: zxid) { cond.broadcast() }
        try wait("a quorum of NEWLEADER acks") { agreement.newLeaderAcked && running }
    }

    public func learnerSynced(_ handler: LearnerHandler) {
        cond.lock(); defer { cond.unlock() }
        let id = ObjectIdentifier(handler)
        synced.insert(id)
        lastHeard[id] = Clock.monotonicMillis()
        logger.info("Learner \(handler.sid) (\(handler.learnerType.rawValue)) is up to date")
    }

    public func removeLearner(_ handler: LearnerHandler) {
        cond.lock(); defer { cond.unlock() }
        let id = ObjectIdentifier(handler)
        handlers[id] = nil
        forwarding.remove(id)
        synced.remove(id)
        lastHeard[id] = nil
        pingsInFlight[id] = nil
        tracker.removeLearner(handler.sid)
    }

    // MARK: broadcast

    public func processPacket(_ p: QuorumPacket, from handler: LearnerHandler) {
        let id = ObjectIdentifier(handler)
        switch p.packetType {
        case .ack?:
            cond.lock()
            lastHeard[id] = Clock.monotonicMillis()
            cond.unlock()
            if handler.learnerType == .participant { processAck(sid: handler.sid, zxid: p.zxid) }
        case .ping?:
            let touches = (try? SessionTouches.decode(p.data)) ?? []
            for t in touches where !zk.touch(sessionId: t.id, timeout: t.timeout) {
                logger.debug("Learner \(handler.sid) touched unknown session 0x\(String(t.id, radix: 16))")
            }
            cond.lock()
            lastHeard[id] = Clock.monotonicMillis()
            var ready: [SyncWaiter] = []
            if var q = pingsInFlight[id], !q.isEmpty {
                let round = q.removeFirst()
                pingsInFlight[id] = q
                if handler.learnerType == .participant { ready = tracker.pingReply(from: handler.sid, round: round) }
            }
            for w in ready { answerSyncLocked(w) }
            cond.unlock()
        case .request?:
            touchLearner(id)
            guard let f = try? ForwardedRequest(bytes: p.data ?? []) else {
                logger.warning("Learner \(handler.sid) sent a malformed request; ignored")
                return
            }
            let r = Request(cnxn: nil, sessionId: f.sessionId, cxid: f.cxid, type: f.type,
                            body: ByteBuffer(bytes: f.body), authInfo: p.authinfo ?? [])
            r.owner = id
            zk.submitRequest(r)
        case .revalidate?:
            touchLearner(id)
            guard let (sessionId, timeout) = try? Revalidate.readRequest(p.data ?? []) else { return }
            let valid = zk.touch(sessionId: sessionId, timeout: timeout)
            if valid { try? zk.sessionTracker.setOwner(sessionId, owner: id) }
            handler.queuePacket(QuorumPacket(.revalidate, zxid: -1, data: Revalidate.reply(sessionId: sessionId, valid: valid)))
        default:
            touchLearner(id)
        }
    }

    private func touchLearner(_ id: ObjectIdentifier) {
        cond.lock()
        lastHeard[id] = Clock.monotonicMillis()
        cond.unlock()
    }

    /// A txn from Prep (on ProcessThread): send it to the followers.
    func propose(_ r: Request) {
        guard let hdr = r.hdr, let txn = r.txn else { return }
        if Zxid.counter(hdr.zxid) == 0xffff_ffff {
            // The counter would wrap into the next epoch: elect again for a new epoch.
            stop("zxid lower 32 bits have rolled over, forcing re-election and a new epoch")
            return
        }
        let payload = Array(TxnLogFormat.payload(hdr, txn, digest: r.txnDigest).readableBytesView)
        cond.lock(); defer { cond.unlock() }
        outstanding[hdr.zxid] = (r, payload)
        proposalSizes.record(payload.count)
        lastProposed = hdr.zxid
        tracker.propose(hdr.zxid)
        let packet = QuorumPacket(.proposal, zxid: hdr.zxid, data: payload)
        for id in forwarding where handlers[id]?.learnerType == .participant { handlers[id]!.queuePacket(packet) }
    }

    func processAck(sid: Int64, zxid: Int64) {
        cond.lock(); defer { cond.unlock() }
        let (committed, ready) = tracker.ack(from: sid, zxid: zxid)
        for z in committed { commitLocked(z) }
        for w in ready { answerSyncLocked(w) }
    }

    private func commitLocked(_ zxid: Int64) {
        guard let (r, payload) = outstanding.removeValue(forKey: zxid) else { return }
        toBeApplied.append((zxid, payload))
        let commit = QuorumPacket(.commit, zxid: zxid)
        let inform = QuorumPacket(.inform, zxid: zxid, data: payload)
        for id in forwarding {
            guard let h = handlers[id] else { continue }
            h.queuePacket(h.learnerType == .participant ? commit : inform)
        }
        zk.commitProcessor?.commit(r)
    }

    /// A committed txn is in the tree (ToBeApplied, after Final).
    func applied(zxid: Int64) {
        cond.lock(); defer { cond.unlock() }
        if let i = toBeApplied.firstIndex(where: { $0.zxid == zxid }) { toBeApplied.removeSubrange(...i) }
    }

    func processSync(_ w: SyncWaiter) {
        cond.lock(); defer { cond.unlock() }
        if tracker.sync(w) {
            answerSyncLocked(w)
        } else {
            // A ping round now, rather than at the next half tick, keeps sync fast.
            pingSoon = true
            cond.broadcast()
        }
    }

    private func answerSyncLocked(_ w: SyncWaiter) {
        switch w {
        case .local(let r): zk.commitProcessor?.commit(r)
        case .learner(let id): handlers[id]?.queuePacket(QuorumPacket(.sync, zxid: 0))
        }
    }

    private func pingLocked() {
        let round = tracker.startPingRound()
        let ping = QuorumPacket(.ping, zxid: lastProposed)
        for id in synced {
            guard let h = handlers[id] else { continue }
            pingsInFlight[id, default: []].append(round)
            h.queuePacket(ping)
        }
        // Only this leader's own acks count when nobody else is connected.
        for w in tracker.pingReply(from: myid, round: round) { answerSyncLocked(w) }
    }

    /// Voters heard from within syncLimit, the leader included; a learner
    /// counts from the start of its sync (LearnerHandler.synced in Apache).
    private func syncedVotersLocked(now: Int64) -> Set<Int64> {
        var sids: Set<Int64> = [myid]
        for id in forwarding {
            guard let h = handlers[id], h.learnerType == .participant, let t = lastHeard[id],
                  now - t <= Int64(syncLimitMs) else { continue }
            sids.insert(h.sid)
        }
        return sids
    }

    // MARK: leading (on the QuorumPeer thread)

    /// Leader.lead: discovery, then serving until the quorum is lost or stop() is called.
    func lead(acceptedEpoch: Int64, onServing: (LeaderZooKeeperServer) -> Void) throws {
        let epoch = try discover(acceptedEpoch: acceptedEpoch)
        zk.startup()
        factory.setZooKeeperServer(zk)
        cond.lock()
        running = true
        cond.broadcast()
        cond.unlock()
        onServing(zk)
        logger.info("Leading epoch \(epoch): serving clients")
        try serve()
    }

    /// The leader's own part of epoch agreement, waiting at each step for a quorum.
    private func discover(acceptedEpoch: Int64) throws -> Int64 {
        let mine = ownSummary
        cond.lock(); defer { cond.unlock() }
        try connectLocked(sid: myid, lastAcceptedEpoch: acceptedEpoch)
        try wait("a quorum of learners to connect") { !agreement.waitingForNewEpoch }
        let epoch = agreement.epoch
        logger.info("LEADING - epoch \(epoch) proposed to a quorum")
        zk.setZxid(Zxid.make(epoch: epoch, counter: 0))
        if try agreement.ackEpoch(sid: myid, currentEpoch: mine.currentEpoch, lastZxid: mine.lastZxid, leader: mine) { cond.broadcast() }
        try wait("a quorum of epoch acks") { agreement.electionFinished }
        try epochFiles.write(EpochFiles.current, epoch)
        if agreement.ackNewLeader(sid: myid, zxid: Zxid.make(epoch: epoch, counter: 0)) { cond.broadcast() }
        try wait("a quorum of NEWLEADER acks") { agreement.newLeaderAcked }
        return epoch
    }

    /// Every half tick: ping, and check that a quorum is still with us.
    private func serve() throws {
        let half = Double(max(peer.server.tickTime / 2, 1)) / 1000
        cond.lock(); defer { cond.unlock() }
        var nextPing = Date(timeIntervalSinceNow: half)
        while stopReason == nil {
            if pingSoon || Date() >= nextPing {
                pingSoon = false
                pingLocked()
                if Date() >= nextPing { nextPing = Date(timeIntervalSinceNow: half) }
                let now = Clock.monotonicMillis()
                let sids = syncedVotersLocked(now: now)
                if !view.containsQuorum(sids) {
                    stopReason = "Not sufficient followers synced, only synced with sids: [ \(sids.sorted().map(String.init).joined(separator: ", ")) ]"
                    break
                }
            }
            _ = cond.wait(until: nextPing)
        }
        throw Stopped(description: stopReason ?? "stopped")
    }

    /// Ends leading (from any thread): lead() returns by throwing.
    func stop(_ reason: String) {
        cond.lock()
        if stopReason == nil { stopReason = reason }
        cond.broadcast()
        cond.unlock()
    }

    /// Closes the learners' connections and the server; after lead() returned.
    func shutdown() {
        stop("shutdown")
        cond.lock()
        let all = Array(handlers.values)
        cond.unlock()
        all.forEach { $0.shutdown() }
        factory.setZooKeeperServer(nil)
        zk.shutdown()
        // The stages keep this leader alive until their threads end; let go of the txns now.
        cond.lock()
        outstanding.removeAll()
        toBeApplied.removeAll()
        cond.unlock()
    }

    // MARK: state for srvr/mntr and QuorumPeer

    func monitorLines() -> [(String, String)] {
        cond.lock(); defer { cond.unlock() }
        let now = Clock.monotonicMillis()
        let syncedFollowers = syncedVotersLocked(now: now).count - 1
        let syncedObservers = synced.compactMap { handlers[$0] }.filter { $0.learnerType == .observer }.count
        return [("zk_learners", "\(handlers.count)"),
                ("zk_synced_followers", "\(syncedFollowers)"),
                ("zk_synced_non_voting_followers", "0"),
                ("zk_synced_observers", "\(syncedObservers)")]
    }

    var epoch: Int64 {
        cond.lock(); defer { cond.unlock() }
        return agreement.epoch
    }

    /// Synced observers: sid and address, for the AdminServer.
    var syncedObservers: [(sid: Int64, address: String)] {
        cond.lock(); defer { cond.unlock() }
        return synced.compactMap { handlers[$0] }.filter { $0.learnerType == .observer }
            .map { ($0.sid, $0.remoteAddress) }.sorted { $0.sid < $1.sid }
    }

    var learnerCounts: (synced: Int, voters: Int) {
        cond.lock(); defer { cond.unlock() }
        return (syncedVotersLocked(now: Clock.monotonicMillis()).count, view.votingMembers.count)
    }
}
