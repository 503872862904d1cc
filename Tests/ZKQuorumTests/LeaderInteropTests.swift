// The leader's side of the learner protocol against an Apache ZooKeeper
// 3.8.0 follower: our peer wins the election, LearnerCnxAcceptor and
// LearnerHandler take Apache in (epoch agreement, SNAP, NEWLEADER, UPTODATE),
// and a proposal of ours commits on Apache's ack and is served by Apache.
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
import ZKClient
import ZKData
import ZKJute
import ZKPersistence
@testable import ZKQuorum

/// A leader with an in-memory tree: discovery, sync by SNAP, proposals and
/// pings, built from the pure cores. It logs nothing.
final class TestLeader: LearnerMaster, @unchecked Sendable {
    let myid: Int64
    let view: QuorumMaj
    var configText: String { view.configText }
    let initLimitMs = 10_000
    let syncLimitMs = 5_000
    let maxPacketBytes = 1 << 22
    // `cond` guards everything below.
    let cond = NSCondition()
    var agreement: EpochAgreement
    var tracker: ProposalTracker<Int>
    let tree: DataTree
    var handlers: [LearnerHandler] = []
    var nextCounter: Int64 = 0
    var pending: [Int64: (TxnHeader, Txn)] = [:]
    var running = false
    var stopped = false

    init(myid: Int64, view: QuorumMaj, tree: DataTree) {
        self.myid = myid
        self.view = view
        self.tree = tree
        agreement = EpochAgreement(myid: myid, config: view)
        tracker = ProposalTracker(myid: myid, config: view, lastCommitted: tree.lastProcessedZxid)
    }

    private func wait(until done: () -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: Double(initLimitMs) / 1000)
        while !done() {
            if stopped || !cond.wait(until: deadline) { throw SocketError(.timedOut, "timed out waiting for a quorum") }
        }
    }

    func epochToPropose(sid: Int64, lastAcceptedEpoch: Int64) throws -> Int64 {
        cond.lock(); defer { cond.unlock() }
        if agreement.connect(sid: sid, lastAcceptedEpoch: lastAcceptedEpoch) != nil { cond.broadcast() }
        try wait { !agreement.waitingForNewEpoch }
        return agreement.epoch
    }

    func waitForEpochAck(sid: Int64, currentEpoch: Int64, lastZxid: Int64) throws {
        cond.lock(); defer { cond.unlock() }
        let mine = (currentEpoch: Zxid.epoch(tree.lastProcessedZxid), lastZxid: tree.lastProcessedZxid)
        if try agreement.ackEpoch(sid: sid, currentEpoch: currentEpoch, lastZxid: lastZxid, leader: mine) { cond.broadcast() }
        try wait { agreement.electionFinished }
    }

    func startSync(_ handler: LearnerHandler, peerLastZxid: Int64) -> LearnerHandler.SyncStart {
        cond.lock(); defer { cond.unlock() }
        handlers.append(handler)
        let plan = LearnerSyncPlan<Int64>.decide(peerLastZxid: peerLastZxid, lastProcessedZxid: tree.lastProcessedZxid,
                                                 committedLog: [], txnLog: nil, zxid: { $0 })
        precondition(plan.snap, "an empty committed log means SNAP here")
        var snap = ByteBuffer()
        LearnerSnapshot.write(sessions: [], acls: tree.aclCache.entries, nodes: LearnerSnapshotTests.serialize(tree), to: &snap)
        return .init(header: QuorumPacket(.snap, zxid: tree.lastProcessedZxid), snapshot: snap, packets: [])
    }

    func waitForNewLeaderAck(sid: Int64, zxid: Int64) throws {
        cond.lock(); defer { cond.unlock() }
        if agreement.ackNewLeader(sid: sid, zxid: zxid) { cond.broadcast() }
        try wait { agreement.newLeaderAcked && running }
    }

    func processPacket(_ p: QuorumPacket, from handler: LearnerHandler) {
        cond.lock(); defer { cond.unlock() }
        switch p.packetType {
        case .ack?:
            for z in tracker.ack(from: handler.sid, zxid: p.zxid).committed { commitLocked(z) }
        case .request?:
            // What a follower forwards for its clients: sessions and sync.
            guard let r = try? ForwardedRequest(bytes: p.data ?? []) else { return }
            switch OpCode(rawValue: r.type) {
            case .createSession?:
                var b = ByteBuffer(bytes: r.body)
                guard let timeout = try? b.readJuteInt() else { return }
                proposeLocked(.createSession(timeOut: timeout), session: r.sessionId, cxid: r.cxid)
            case .closeSession?:
                proposeLocked(.closeSession(paths: []), session: r.sessionId, cxid: r.cxid)
            case .sync?:
                handler.queuePacket(QuorumPacket(.sync, zxid: 0))
            default:
                break
            }
        default:
            break
        }
    }

    func removeLearner(_ handler: LearnerHandler) {
        cond.lock()
        handlers.removeAll { $0 === handler }
        cond.unlock()
    }

    private func commitLocked(_ z: Int64) {
        if let (h, t) = pending.removeValue(forKey: z) { _ = tree.processTxn(h, t) }
        for l in handlers { l.queuePacket(QuorumPacket(.commit, zxid: z)) }
        cond.broadcast()
    }

    /// The leader's own part of discovery (Leader.lead), then serving.
    func lead() throws {
        cond.lock(); defer { cond.unlock() }
        if agreement.connect(sid: myid, lastAcceptedEpoch: Zxid.epoch(tree.lastProcessedZxid)) != nil { cond.broadcast() }
        try wait { !agreement.waitingForNewEpoch }
        let mine = (currentEpoch: Zxid.epoch(tree.lastProcessedZxid), lastZxid: tree.lastProcessedZxid)
        if try agreement.ackEpoch(sid: myid, currentEpoch: mine.currentEpoch, lastZxid: mine.lastZxid, leader: mine) { cond.broadcast() }
        try wait { agreement.electionFinished }
        if agreement.ackNewLeader(sid: myid, zxid: Zxid.make(epoch: agreement.epoch, counter: 0)) { cond.broadcast() }
        try wait { agreement.newLeaderAcked }
        running = true
        cond.broadcast()
    }

    @discardableResult
    private func proposeLocked(_ txn: Txn, session: Int64, cxid: Int32) -> Int64 {
        nextCounter += 1
        let zxid = Zxid.make(epoch: agreement.epoch, counter: nextCounter)
        let hdr = TxnHeader(clientId: session, cxid: cxid, zxid: zxid, time: Int64(Date().timeIntervalSince1970 * 1000), type: txn.type)
        pending[zxid] = (hdr, txn)
        tracker.propose(zxid)
        let payload = Array(TxnLogFormat.payload(hdr, txn).readableBytesView)
        for l in handlers where l.learnerType == .participant { l.queuePacket(QuorumPacket(.proposal, zxid: zxid, data: payload)) }
        for z in tracker.ack(from: myid, zxid: zxid).committed { commitLocked(z) }
        return zxid
    }

    /// Proposes a txn of the leader's own and waits for it to commit.
    func propose(_ txn: Txn) throws -> Int64 {
        cond.lock(); defer { cond.unlock() }
        let zxid = proposeLocked(txn, session: 0, cxid: 0)
        try wait { tracker.lastCommitted >= zxid }
        return zxid
    }

    func ping() {
        cond.lock()
        for l in handlers { l.queuePacket(QuorumPacket(.ping, zxid: tracker.lastCommitted)) }
        cond.unlock()
    }

    func stop() {
        cond.lock()
        stopped = true
        let all = handlers
        cond.broadcast()
        cond.unlock()
        all.forEach { $0.shutdown() }
    }
}

@Suite(.serialized) struct LeaderInteropTests {
    @Test func apacheFollowerSyncsFromOurLeaderAndAcksItsProposals() async throws {
        let view = try FastLeaderElectionTests.view([1, 2, 3])
        // Our data: epoch 1 with a few nodes, newer than the fresh Apache follower.
        let tree = DataTree()
        var hdr = TxnHeader(clientId: 0, cxid: 0, zxid: Zxid.make(epoch: 1, counter: 1), time: 1_700_000_000_000, type: OpCode.create.rawValue)
        _ = tree.processTxn(hdr, .create(CreateTxn(path: "/ours", data: Array("snap".utf8), acl: ACL.openACLUnsafe, ephemeral: false, parentCVersion: 1)))
        hdr.zxid = Zxid.make(epoch: 1, counter: 2)
        _ = tree.processTxn(hdr, .create(CreateTxn(path: "/ours/kid", data: [9], acl: ACL.readACLUnsafe, ephemeral: false, parentCVersion: 1)))
        let leader = TestLeader(myid: 1, view: view, tree: tree)
        let acceptor = try LearnerCnxAcceptor(host: "127.0.0.1", port: view.members[1]!.quorumPort, master: leader)
        acceptor.start()
        let election = ElectionPeer(myid: 1, view: view, zxid: tree.lastProcessedZxid, epoch: 1)
        let apache = try ApachePeer(sid: 2, view: view, clientPort: try freePort())
        let pinger = NIOLockedValueBox(true)
        defer {
            pinger.withLockedValue { $0 = false }
            leader.stop()
            acceptor.halt()
            election.stop()
            apache.stop()
        }
        election.start()
        let result = NIOLockedValueBox<[Int64: FastLeaderElectionCore.Outcome]>([:])
        _ = election.elect(result)
        #expect(waitUntil(timeoutMs: 30000) { result.withLockedValue { $0[1] } == .leading })
        Thread {
            while pinger.withLockedValue({ $0 }) {
                leader.ping()
                Thread.sleep(forTimeInterval: 0.25)
            }
        }.start()
        try leader.lead()
        #expect(waitUntil(timeoutMs: 30000) { apache.mode == "follower" }, "\(apache.log.suffix(3000))")

        // Apache serves the tree it received by SNAP.
        let zk: ZooKeeperClient
        do {
            zk = try await ZooKeeperClient.connect("127.0.0.1:\(apache.clientPort)", sessionTimeout: 30000)
        } catch {
            Issue.record("cannot connect to the Apache follower: \(error)\n\(apache.log.suffix(4000))")
            return
        }
        let (data, stat) = try await zk.getData("/ours/kid")
        #expect(data == [9] && stat == tree.stat(of: tree.getNode("/ours/kid")!))
        #expect(try await zk.getACL("/ours/kid").acl == ACL.readACLUnsafe)

        // A proposal of ours commits only with Apache's ack (quorum 2 of 3), and Apache applies it.
        let z = try leader.propose(.create(CreateTxn(path: "/ours/live", data: Array("zab".utf8), acl: ACL.openACLUnsafe,
                                                     ephemeral: false, parentCVersion: 2)))
        #expect(Zxid.epoch(z) == 2)
        _ = try await zk.sync("/ours")
        let live = try await zk.getData("/ours/live")
        #expect(live.data == Array("zab".utf8) && live.stat.czxid == z)
        await zk.close()
    }
}
