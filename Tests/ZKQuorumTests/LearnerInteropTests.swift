// The learner protocol against an Apache ZooKeeper 3.8.0 leader: a test
// learner built from LearnerConnection, LearnerSyncState and LearnerSnapshot
// registers, syncs by SNAP, then acks proposals and answers pings. With the
// other Apache follower gone, Apache's writes commit only on our acks.
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
import ZKClient
import ZKData
import ZKJute
import ZKPersistence
@testable import ZKQuorum

/// A follower that keeps its tree in memory and logs nothing: enough to
/// exercise the wire protocol, not a durable server.
final class TestLearner: @unchecked Sendable {
    let conn: LearnerConnection
    // `lock` guards tree, header, pending and stopped.
    let lock = NIOLock()
    var tree = DataTree()
    var header: QuorumPacketType? = nil
    var pending: [Int64: (TxnHeader, Txn)] = [:]
    var stopped = false
    var failure: String? = nil

    init(leader: QuorumServer) throws {
        conn = try LearnerConnection.connect(host: leader.host, port: leader.quorumPort, totalMs: 20_000, maxBytes: 1 << 22)
    }

    /// Registers as `myid`, syncs, then serves the leader on a thread until stopped.
    func run(myid: Int64) throws {
        let reg = try conn.register(myid: myid, observer: false, acceptedEpoch: 0, currentEpoch: 0,
                                    lastLoggedZxid: 0, configVersion: 0, persistAcceptedEpoch: { _ in })
        let first = try conn.read()
        guard let h = first.packetType, [.diff, .snap, .trunc].contains(h) else { throw LearnerConnection.RegistrationFailed(description: "sync header \(first.type)") }
        lock.withLock { header = h }
        if h == .snap {
            let loaded = try LearnerSnapshot.read(conn.stream, extendedTypesEnabled: false)
            loaded.tree.setLastProcessedZxid(first.zxid)
            lock.withLock { tree = loaded.tree }
        }
        var state = LearnerSyncState(header: h == .snap ? .snap : (h == .diff ? .diff : .trunc),
                                     newLeaderZxid: reg.newLeaderZxid, isObserver: false)
        while !state.done {
            let p = try conn.read()
            if p.packetType == .proposal { try stash(p) }
            if p.packetType == .ping { try conn.send(p) }   // answered as the learner does once serving
            guard let t = p.packetType else { continue }
            for a in try state.receive(type: t, zxid: p.zxid, newLeaderZxid: reg.newLeaderZxid) { try perform(a) }
        }
        Thread { [self] in
            do {
                while !lock.withLock({ stopped }) { try serve(try conn.read()) }
            } catch {
                if !lock.withLock({ stopped }) { lock.withLock { failure = "\(error)" } }
            }
        }.start()
    }

    private func stash(_ p: QuorumPacket) throws {
        let r = try TxnLogFormat.decodePayload(ByteBuffer(bytes: p.data ?? []), offset: 0)
        lock.withLock { pending[p.zxid] = (r.hdr, r.txn) }
    }

    private func apply(_ zxid: Int64) {
        lock.withLock {
            guard let (h, t) = pending.removeValue(forKey: zxid) else { return }
            _ = tree.processTxn(h, t)
        }
    }

    private func perform(_ a: LearnerSyncState.Action) throws {
        switch a {
        case .apply(let z), .commit(let z): apply(z)
        case .ack(let z): try conn.send(QuorumPacket(.ack, zxid: z))
        case .log, .takeSnapshot, .setCurrentEpoch, .startServing: break
        }
    }

    /// Broadcast: ack each proposal, apply each commit, echo pings with no touches.
    private func serve(_ p: QuorumPacket) throws {
        switch p.packetType {
        case .proposal?:
            try stash(p)
            try conn.send(QuorumPacket(.ack, zxid: p.zxid))
        case .commit?:
            apply(p.zxid)
        case .ping?:
            try conn.send(QuorumPacket(.ping, zxid: p.zxid, data: SessionTouches.encode([])))
        default:
            break
        }
    }

    func stop() {
        lock.withLock { stopped = true }
        conn.close()
    }

    func node(_ path: String) -> (data: [UInt8]?, stat: Stat)? {
        lock.withLock { tree.getNode(path).map { ($0.data, tree.stat(of: $0)) } }
    }
}

@Suite(.serialized) struct LearnerInteropTests {
    @Test func syncsFromAnApacheLeaderAndItsAcksCommitWrites() async throws {
        let view = try FastLeaderElectionTests.view([1, 2, 3])
        let apache = try [2, 3].map { try ApachePeer(sid: $0, view: view, clientPort: try freePort()) }
        defer { apache.forEach { $0.stop() } }
        // Usually sid 3 leads; sid 2 does if 3's JVM comes up late.
        #expect(waitUntil(timeoutMs: 60000) { Set(apache.compactMap(\.mode)) == ["leader", "follower"] }, "\(apache[1].log.suffix(2000))")
        let (leading, other) = apache[0].mode == "leader" ? (apache[0], apache[1]) : (apache[1], apache[0])
        let leaderSid: Int64 = leading === apache[0] ? 2 : 3

        // Some data before we join: it must arrive in the SNAP.
        let zk = try await ZooKeeperClient.connect("127.0.0.1:\(leading.clientPort)", sessionTimeout: 30000)
        _ = try await zk.create("/before", data: Array("one".utf8))
        _ = try await zk.create("/before/child", data: [0, 1, 2])
        _ = try await zk.setData("/before", data: Array("two".utf8))

        let learner = try TestLearner(leader: view.members[leaderSid]!)
        defer { learner.stop() }
        try learner.run(myid: 1)
        #expect(learner.lock.withLock { learner.header } == .snap)
        for path in ["/before", "/before/child"] {
            let (data, stat) = try await zk.getData(path)
            let mine = learner.node(path)
            #expect(mine?.data == data && mine?.stat == stat, "\(path)")
        }

        // Without Apache's other follower, only our acks make a quorum.
        other.stop()
        let made = try await zk.create2("/after", data: Array("three".utf8))
        #expect(waitUntil(timeoutMs: 10000) { learner.node("/after") != nil })
        #expect(learner.node("/after")?.stat == made.stat)
        #expect(learner.node("/after")?.data == Array("three".utf8))
        #expect(learner.lock.withLock { learner.failure } == nil)
        await zk.close()
    }
}
