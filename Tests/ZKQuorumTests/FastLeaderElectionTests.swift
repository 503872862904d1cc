// Fast Leader Election over real election ports on loopback: three peers,
// each with its QuorumCnxManager and FLE threads, agree on a leader; the
// survivors re-elect when it goes; a late peer follows the settled leader.
import Foundation
import NIOConcurrencyHelpers
import Testing
import ZKJute
@testable import ZKQuorum

final class ElectionPeer: @unchecked Sendable {
    let myid: Int64
    let manager: QuorumCnxManager
    var fle: FastLeaderElection!
    // `state` holds the peer's state and current vote for the FLE threads.
    let state: NIOLockedValueBox<(ServerState, Vote)>
    let zxid: Int64
    let epoch: Int64

    init(myid: Int64, view: QuorumMaj, zxid: Int64, epoch: Int64 = 1) {
        self.myid = myid
        self.zxid = zxid
        self.epoch = epoch
        state = NIOLockedValueBox((.looking, Vote(leader: myid, zxid: zxid, electionEpoch: 0, peerEpoch: epoch)))
        manager = QuorumCnxManager(myid: myid, view: view.members, listenOnAllIPs: false, cnxTimeoutMs: 1000)
        let box = state
        fle = FastLeaderElection(myid: myid, config: view, manager: manager, minNotificationIntervalMs: 50,
                                 maxNotificationIntervalMs: 400, peerState: { box.withLockedValue { $0 } })
    }

    func start() {
        manager.start()
        fle.start()
    }

    /// One election on a thread of its own; the outcome lands in `result`.
    func elect(_ result: NIOLockedValueBox<[Int64: FastLeaderElectionCore.Outcome]>) -> Thread {
        state.withLockedValue { $0.0 = .looking }
        let t = Thread { [self] in
            guard let d = fle.lookForLeader(lastLoggedZxid: zxid, currentEpoch: epoch) else { return }
            let s: ServerState
            switch d.outcome {
            case .leading: s = .leading
            case .following: s = .following
            case .observing: s = .observing
            }
            state.withLockedValue { $0 = (s, d.vote) }
            result.withLockedValue { $0[myid] = d.outcome }
        }
        t.start()
        return t
    }

    func stop() {
        fle.shutdown()
        manager.halt()
    }
}

@Suite(.serialized) struct FastLeaderElectionTests {
    static func view(_ ids: [Int64]) throws -> QuorumMaj {
        let ports = try freePorts(2 * ids.count)
        return QuorumMaj(members: ids.enumerated().map { i, id in
            QuorumServer(id: id, host: "127.0.0.1", quorumPort: ports[2 * i], electionPort: ports[2 * i + 1])
        })
    }

    @Test func threePeersElectTheNewestAndReelectWhenItGoes() throws {
        let view = try Self.view([1, 2, 3])
        let peers = [1, 2, 3].map { ElectionPeer(myid: $0, view: view, zxid: $0 == 2 ? 0x1_0000_0009 : 0x1_0000_0005) }
        defer { peers.forEach { $0.stop() } }
        peers.forEach { $0.start() }
        let result = NIOLockedValueBox<[Int64: FastLeaderElectionCore.Outcome]>([:])
        _ = peers.map { $0.elect(result) }
        #expect(waitUntil(timeoutMs: 20000) { result.withLockedValue { $0.count } == 3 })
        #expect(result.withLockedValue { $0 } == [1: .following(leader: 2), 2: .leading, 3: .following(leader: 2)])

        // The leader goes; the other two elect the higher sid among them.
        peers[1].stop()
        result.withLockedValue { $0 = [:] }
        _ = [peers[0], peers[2]].map { $0.elect(result) }
        #expect(waitUntil(timeoutMs: 20000) { result.withLockedValue { $0.count } == 2 })
        #expect(result.withLockedValue { $0 } == [1: .following(leader: 3), 3: .leading])
    }

    @Test func latePeerFollowsTheSettledLeader() throws {
        let view = try Self.view([1, 2, 3])
        let peers = [1, 2, 3].map { ElectionPeer(myid: $0, view: view, zxid: 0x1_0000_0005) }
        defer { peers.forEach { $0.stop() } }
        peers[0].start(); peers[1].start()
        let result = NIOLockedValueBox<[Int64: FastLeaderElectionCore.Outcome]>([:])
        _ = [peers[0], peers[1]].map { $0.elect(result) }
        #expect(waitUntil(timeoutMs: 20000) { result.withLockedValue { $0.count } == 2 })
        #expect(result.withLockedValue { $0 } == [1: .following(leader: 2), 2: .leading])
        // Peer 3 has the highest sid but comes late: it must join, not take over.
        peers[2].start()
        _ = peers[2].elect(result)
        #expect(waitUntil(timeoutMs: 20000) { result.withLockedValue { $0.count } == 3 })
        #expect(result.withLockedValue { $0[3] } == .following(leader: 2))
    }
}
