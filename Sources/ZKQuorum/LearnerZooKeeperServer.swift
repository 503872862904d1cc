// The server of a follower or observer (FollowerZooKeeperServer,
// ObserverZooKeeperServer): clients' reads are served from the local tree;
// writes, session changes and syncs go to the leader and come back as
// commits. A follower logs each proposal and acks it (Sync -> SendAck); an
// observer logs what it is informed of when observer.syncEnabled is set.
import NIOConcurrencyHelpers
import NIOCore
import ZKJute
import ZKPersistence
import ZKServer

public final class LearnerZooKeeperServer: ZooKeeperServer, @unchecked Sendable {
    private let myid: Int64
    let isObserver: Bool
    private let logsTxns: Bool
    private let learner: Learner
    let learnerTracker: LearnerSessionTracker

    private struct Pipeline {
        var commit: CommitProcessor?
        var sync: SyncRequestProcessor?
        /// Logged proposals waiting for their COMMIT, in zxid order.
        var pendingTxns: [Request] = []
        /// Forwarded syncs waiting for the leader's SYNC, in order.
        var pendingSyncs: [Request] = []
        /// Clients resuming a session, waiting for the leader's REVALIDATE.
        var pendingRevalidations: [Int64: [ServerCnxn]] = [:]
    }
    private let pipeline = NIOLockedValueBox(Pipeline())

    init(config: ServerConfig, zkDb: ZKDatabase, snapLog: FileTxnSnapLog, myid: Int64, observer: Bool,
         observerSyncEnabled: Bool, learner: Learner) {
        self.myid = myid
        isObserver = observer
        logsTxns = !observer || observerSyncEnabled
        self.learner = learner
        learnerTracker = LearnerSessionTracker(serverId: myid, sessions: zkDb.sessions.withLockedValue { $0 })
        super.init(config: config, zkDb: zkDb, snapLog: snapLog)
    }

    public override var serverId: Int64 { myid }
    public override var serverState: String { isObserver ? "observer" : "follower" }
    public override var ownsSessions: Bool { false }

    /// What a learner sends the leader, and so what waits for a commit here.
    static func forwards(_ type: Int32) -> Bool {
        switch OpCode(rawValue: type) {
        case .create, .create2, .createTTL, .createContainer, .delete, .deleteContainer, .setData, .reconfig, .setACL,
             .multi, .check, .createSession, .closeSession, .sync: true
        default: false
        }
    }

    public override func setupRequestProcessors() -> any RequestProcessor {
        let final = FinalRequestProcessor(zks: self)
        let commit = CommitProcessor(next: final) { Self.forwards($0.type) }
        var sync: SyncRequestProcessor? = nil
        if logsTxns {
            let ack: any RequestProcessor = isObserver ? DiscardRequestProcessor() : SendAckRequestProcessor(learner: learner)
            sync = SyncRequestProcessor(zks: self, next: ack, txnLog: makeTxnLog())
        }
        pipeline.withLockedValue { $0.commit = commit; $0.sync = sync }
        let first = LearnerRequestProcessor(name: isObserver ? "ObserverReqProc" : "FollowerReqProc", next: commit, zks: self)
        commit.start()
        sync?.start()
        first.start()
        return first
    }

    public override func shutdown() {
        super.shutdown()
        pipeline.withLockedValue { $0.sync }?.shutdown()
    }

    public override var quorumInfo: QuorumAdminInfo? {
        learner.peer.adminInfo(leader: learner.leaderServer.withLockedValue { $0 }, isLeader: false, observers: [])
    }

    /// SyncThread logs and acks proposals beside the client chain.
    public override var sideChains: [any RequestProcessor] {
        pipeline.withLockedValue { p in p.sync.map { [$0] } ?? [] }
    }

    // MARK: sessions

    public override func createSessionId(timeout: Int32) -> Int64 { learnerTracker.createSession() }

    public override func touch(sessionId: Int64, timeout: Int32) -> Bool {
        learnerTracker.touchSession(sessionId, timeout: timeout)
    }

    public override func revalidateSession(_ cnxn: ServerCnxn, sessionId: Int64, timeout: Int32) {
        pipeline.withLockedValue { $0.pendingRevalidations[sessionId, default: []].append(cnxn) }
        learner.send(QuorumPacket(.revalidate, zxid: -1, data: Revalidate.request(sessionId: sessionId, timeout: timeout)))
    }

    /// The leader's REVALIDATE answer.
    func revalidated(sessionId: Int64, valid: Bool) {
        let waiting = pipeline.withLockedValue { $0.pendingRevalidations.removeValue(forKey: sessionId) } ?? []
        for cnxn in waiting {
            if valid {
                _ = learnerTracker.touchSession(sessionId, timeout: cnxn.sessionTimeout)
                factory?.bindSession(cnxn, sessionId)
            }
            finishSessionInit(cnxn, valid: valid)
        }
    }

    public override func sessionCommitted(_ id: Int64, timeout: Int32) {
        super.sessionCommitted(id, timeout: timeout)
        learnerTracker.commitSession(id, timeout: timeout)
    }

    public override func sessionRemoved(_ id: Int64) {
        super.sessionRemoved(id)
        learnerTracker.removeSession(id)
    }

    // MARK: from the leader

    /// A PROPOSAL: log it (the ack follows from SendAck) and wait for its COMMIT.
    func logRequest(_ r: Request) {
        let sync = pipeline.withLockedValue { p -> SyncRequestProcessor? in
            p.pendingTxns.append(r)
            return p.sync
        }
        sync?.processRequest(r)
    }

    /// A proposal logged during sync, before the pipeline runs; its COMMIT comes later.
    func queuePending(_ r: Request) {
        pipeline.withLockedValue { $0.pendingTxns.append(r) }
    }

    struct CommitOutOfOrder: Error, CustomStringConvertible { var description: String }

    /// A COMMIT: the oldest logged proposal must be the one committed.
    func commit(zxid: Int64) throws {
        let (r, next, commit) = pipeline.withLockedValue { p -> (Request?, Int64?, CommitProcessor?) in
            let next = p.pendingTxns.first?.hdr?.zxid
            guard next == zxid else { return (nil, next, p.commit) }
            return (p.pendingTxns.removeFirst(), next, p.commit)
        }
        guard let r else {
            throw CommitOutOfOrder(description: "Committing zxid 0x\(String(zxid, radix: 16)) but next pending txn is \(next.map { "0x" + String($0, radix: 16) } ?? "none")")
        }
        commit?.commit(r)
    }

    /// An INFORM (observers): the txn is committed; log it if configured and apply it.
    func commitInformed(_ r: Request) {
        let (sync, commit) = pipeline.withLockedValue { ($0.sync, $0.commit) }
        sync?.processRequest(r)
        commit?.commit(r)
    }

    /// The leader's SYNC: the oldest forwarded sync may be answered.
    func syncAnswered() {
        let (r, commit) = pipeline.withLockedValue { p -> (Request?, CommitProcessor?) in
            (p.pendingSyncs.isEmpty ? nil : p.pendingSyncs.removeFirst(), p.commit)
        }
        if let r { commit?.commit(r) }
    }

    /// Sends a client's write, session change or sync to the leader (FollowerReqProc).
    func forward(_ r: Request) {
        if r.type == OpCode.sync.rawValue { pipeline.withLockedValue { $0.pendingSyncs.append(r) } }
        let f = ForwardedRequest(sessionId: r.sessionId, cxid: r.cxid, type: r.type, body: Array(r.body.readableBytesView))
        learner.send(QuorumPacket(.request, zxid: -1, data: f.bytes, authinfo: r.authInfo))
    }
}

/// FollowerRequestProcessor / ObserverRequestProcessor (`FollowerReqProc`,
/// `ObserverReqProc`): everything goes to the commit queue, which holds what
/// needs the leader; that part is also sent to the leader.
final class LearnerRequestProcessor: RequestProcessor, @unchecked Sendable {
    private let name: String
    private let next: CommitProcessor
    private let zks: LearnerZooKeeperServer
    private let queue = RequestQueue<Request>()

    init(name: String, next: CommitProcessor, zks: LearnerZooKeeperServer) {
        self.name = name
        self.next = next
        self.zks = zks
    }

    func start() {
        ZKThread.start(name: name) { [self] in
            while let batch = queue.takeAll() {
                for r in batch {
                    next.processRequest(r)
                    if LearnerZooKeeperServer.forwards(r.type) { zks.forward(r) }
                }
            }
        }
    }

    func processRequest(_ r: Request) { queue.put(r) }

    func shutdown() {
        queue.close()
        next.shutdown()
    }
}

/// After SyncThread has the proposal on disk: ACK it to the leader.
final class SendAckRequestProcessor: RequestProcessor, @unchecked Sendable {
    private let learner: Learner

    init(learner: Learner) { self.learner = learner }

    func processRequest(_ r: Request) {
        r.probeDone?()
        guard let hdr = r.hdr else { return }
        learner.send(QuorumPacket(.ack, zxid: hdr.zxid))
    }

    func shutdown() {}
}

/// The end of an observer's logging chain: nobody waits for its acks.
final class DiscardRequestProcessor: RequestProcessor, @unchecked Sendable {
    func processRequest(_ r: Request) { r.probeDone?() }
    func shutdown() {}
}
