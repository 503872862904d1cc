// FLE's decisions driven over an in-memory network: whoever has the newest
// (epoch, zxid, sid) wins, late joiners follow the settled leader, observers
// find it without voting, and empty databases do not vote.
import Testing
import ZKJute
@testable import ZKQuorum

/// Peers exchanging notifications through one FIFO queue; finalizeWait is
/// modelled as "no better vote is queued for this peer".
struct ElectionNet {
    struct Peer {
        var core: FastLeaderElectionCore
        var state: ServerState = .looking
        var currentVote: Vote
        var outcome: FastLeaderElectionCore.Outcome? = nil
    }
    var peers: [Int64: Peer] = [:]
    var queue: [(from: Int64, to: Int64, n: ElectionNotification)] = []
    let config: QuorumMaj
    var delivered = 0

    init(voters: [Int64], observers: [Int64] = []) {
        config = QuorumMaj(members: voters.map { QuorumServer(id: $0, host: "h", quorumPort: Int(2000 + $0), electionPort: Int(3000 + $0)) }
                           + observers.map { QuorumServer(id: $0, host: "h", quorumPort: Int(2000 + $0), electionPort: Int(3000 + $0), type: .observer) })
    }

    mutating func startLooking(_ sid: Int64, zxid: Int64, epoch: Int64) {
        var p = peers[sid] ?? Peer(core: FastLeaderElectionCore(myid: sid, config: config),
                                   currentVote: Vote(leader: sid, zxid: zxid, electionEpoch: 0, peerEpoch: epoch))
        p.state = .looking
        p.outcome = nil
        p.core.startRound(lastLoggedZxid: zxid, currentEpoch: epoch)
        peers[sid] = p
        broadcast(from: sid)
    }

    mutating func broadcast(from sid: Int64) {
        let n = peers[sid]!.core.proposalNotification()
        for v in config.votingMembers.sorted() { queue.append((sid, v, n)) }
    }

    /// A notification timeout on every LOOKING peer: it sends its proposal again.
    mutating func timeout() {
        for sid in peers.keys.sorted() where peers[sid]!.state == .looking { broadcast(from: sid) }
    }

    mutating func run(limit: Int = 10_000) {
        while !queue.isEmpty, delivered < limit {
            let (from, to, n) = queue.removeFirst()
            delivered += 1
            guard var p = peers[to] else { continue }
            if let r = p.core.reply(to: n, from: from, myState: p.state, currentVote: p.currentVote) {
                queue.append((to, from, r))
            }
            guard p.state == .looking else { continue }
            let step = p.core.receive(n, from: from)
            peers[to] = p
            if step.broadcast { broadcast(from: to) }
            p = peers[to]!
            if let d = step.decided {
                settle(to, d.vote, d.outcome)
            } else if step.quorumReached, !queue.contains(where: { $0.to == to && p.core.beatsProposal($0.n) }) {
                let d = p.core.decide()
                settle(to, d.vote, d.outcome)
            }
        }
    }

    mutating func settle(_ sid: Int64, _ vote: Vote, _ outcome: FastLeaderElectionCore.Outcome) {
        var p = peers[sid]!
        p.outcome = outcome
        p.currentVote = vote
        switch outcome {
        case .leading: p.state = .leading
        case .following: p.state = .following
        case .observing: p.state = .observing
        }
        peers[sid] = p
    }

    func leader(of sid: Int64) -> Int64? {
        switch peers[sid]?.outcome {
        case .leading?: sid
        case .following(let l)?, .observing(let l)?: l
        case nil: nil
        }
    }
}

@Suite struct FastLeaderElectionCoreTests {
    @Test func voteOrder() {
        typealias F = FastLeaderElectionCore
        #expect(F.beats(newId: 1, newZxid: 0, newEpoch: 2, curId: 3, curZxid: 9, curEpoch: 1))
        #expect(F.beats(newId: 1, newZxid: 5, newEpoch: 1, curId: 3, curZxid: 4, curEpoch: 1))
        #expect(F.beats(newId: 3, newZxid: 5, newEpoch: 1, curId: 2, curZxid: 5, curEpoch: 1))
        #expect(!F.beats(newId: 2, newZxid: 5, newEpoch: 1, curId: 2, curZxid: 5, curEpoch: 1))
        #expect(!F.beats(newId: 9, newZxid: 5, newEpoch: 0, curId: 2, curZxid: 5, curEpoch: 1))
    }

    @Test func highestSidWinsOnEqualData() {
        var net = ElectionNet(voters: [1, 2, 3])
        for s: Int64 in [1, 2, 3] { net.startLooking(s, zxid: 0x1_0000_0005, epoch: 1) }
        net.run()
        for s: Int64 in [1, 2, 3] { #expect(net.leader(of: s) == 3, "peer \(s)") }
        #expect(net.peers[3]?.outcome == .leading)
    }

    @Test func newestDataWinsOverHigherSid() {
        var net = ElectionNet(voters: [1, 2, 3, 4, 5])
        let zxids: [Int64: Int64] = [1: 0x1_0000_0003, 2: 0x1_0000_0009, 3: 0x1_0000_0004, 4: 0x1_0000_0009, 5: 0x1_0000_0002]
        for s in zxids.keys.sorted() { net.startLooking(s, zxid: zxids[s]!, epoch: 1) }
        net.run()
        for s in zxids.keys { #expect(net.leader(of: s) == 4, "peer \(s)") }
    }

    @Test func newerEpochWinsOverNewerZxid() {
        var net = ElectionNet(voters: [1, 2, 3])
        net.startLooking(1, zxid: 0x2_0000_0001, epoch: 2)
        net.startLooking(2, zxid: 0x1_0000_00ff, epoch: 1)
        net.startLooking(3, zxid: 0x1_0000_00fe, epoch: 1)
        net.run()
        for s: Int64 in [1, 2, 3] { #expect(net.leader(of: s) == 1) }
    }

    @Test func lateJoinerFollowsTheSettledLeader() {
        var net = ElectionNet(voters: [1, 2, 3])
        net.startLooking(2, zxid: 5, epoch: 1)
        net.startLooking(3, zxid: 5, epoch: 1)
        net.run()
        #expect(net.leader(of: 2) == 3 && net.leader(of: 3) == 3)
        // Peer 1 comes up later, in round 1, with newer data it cannot win with alone.
        net.startLooking(1, zxid: 9, epoch: 1)
        net.run()
        #expect(net.leader(of: 1) == 3, "\(String(describing: net.peers[1]?.outcome))")
        #expect(net.peers[1]?.outcome == .following(leader: 3))
    }

    @Test func restartedPeerRejoinsAfterManyRounds() {
        var net = ElectionNet(voters: [1, 2, 3])
        for s: Int64 in [1, 2, 3] { net.startLooking(s, zxid: 5, epoch: 1) }
        net.run()
        // Peer 1's clock races ahead (it kept losing its leader); the others stay put.
        for _ in 0..<4 { net.startLooking(1, zxid: 5, epoch: 1); net.queue.removeAll() }
        net.startLooking(1, zxid: 5, epoch: 1)
        net.run()
        #expect(net.leader(of: 1) == 3)
        // It joined the finished round of the others, taking its number.
        #expect(net.peers[1]!.core.logicalclock == 1)
    }

    @Test func observerFindsTheLeaderWithoutVoting() {
        var net = ElectionNet(voters: [1, 2, 3], observers: [9])
        for s: Int64 in [1, 2, 3] { net.startLooking(s, zxid: 5, epoch: 1) }
        net.startLooking(9, zxid: 99, epoch: 7)    // its data counts for nothing
        #expect(net.peers[9]!.core.proposedLeader == .min)
        net.run()
        #expect(net.leader(of: 3) == 3)
        #expect(net.peers[9]?.outcome == .observing(leader: 3))
    }

    @Test func minorityCannotElect() {
        var net = ElectionNet(voters: [1, 2, 3, 4, 5])
        net.startLooking(4, zxid: 5, epoch: 1)
        net.startLooking(5, zxid: 5, epoch: 1)
        net.run()
        #expect(net.leader(of: 4) == nil && net.leader(of: 5) == nil)
        net.startLooking(1, zxid: 5, epoch: 1)
        net.run()
        net.timeout()
        net.run()
        for s: Int64 in [1, 4, 5] { #expect(net.leader(of: s) == 5) }
    }

    @Test func emptyUntrustedDatabasesDoNotVote() {
        var core = FastLeaderElectionCore(myid: 1, config: ElectionNet(voters: [1, 2, 3]).config)
        core.startRound(lastLoggedZxid: 5, currentEpoch: 1)
        let n = ElectionNotification(state: .looking, leader: 2, zxid: -1, electionEpoch: 1, peerEpoch: 1)
        let step = core.receive(n, from: 2)
        #expect(!step.broadcast && !step.quorumReached && core.proposedLeader == 1)
    }

    @Test func votesFromOrForNonMembersAreIgnored() {
        var core = FastLeaderElectionCore(myid: 1, config: ElectionNet(voters: [1, 2, 3], observers: [9]).config)
        core.startRound(lastLoggedZxid: 5, currentEpoch: 1)
        for (from, leader) in [(Int64(9), Int64(2)), (2, 9), (7, 2)] {
            let step = core.receive(ElectionNotification(state: .looking, leader: leader, zxid: 99, electionEpoch: 1, peerEpoch: 9), from: from)
            #expect(!step.broadcast, "from \(from) for \(leader)")
        }
        #expect(core.proposedLeader == 1)
    }

    @Test func repliesOfTheReceiverThread() {
        let config = ElectionNet(voters: [1, 2, 3], observers: [9]).config
        var core = FastLeaderElectionCore(myid: 3, config: config)
        core.startRound(lastLoggedZxid: 5, currentEpoch: 1)
        core.startRound(lastLoggedZxid: 5, currentEpoch: 1)   // logicalclock 2
        let current = Vote(leader: 3, zxid: 5, electionEpoch: 2, peerEpoch: 2)
        let behind = ElectionNotification(state: .looking, leader: 1, zxid: 5, electionEpoch: 1, peerEpoch: 1)
        // LOOKING: a voter in an older round hears our proposal.
        #expect(core.reply(to: behind, from: 1, myState: .looking, currentVote: current)?.electionEpoch == 2)
        #expect(core.reply(to: core.proposalNotification(), from: 1, myState: .looking, currentVote: current) == nil)
        // An observer always hears our current vote.
        let toObserver = core.reply(to: behind, from: 9, myState: .leading, currentVote: current)
        #expect(toObserver?.state == .leading && toObserver?.leader == 3)
        // Settled: LOOKING peers are told; settled ones are not.
        let told = core.reply(to: behind, from: 1, myState: .leading, currentVote: current)
        #expect(told == ElectionNotification(state: .leading, leader: 3, zxid: 5, electionEpoch: 2, peerEpoch: 2, config: config.configText))
        #expect(core.reply(to: ElectionNotification(state: .following, leader: 3, zxid: 5, electionEpoch: 2, peerEpoch: 2),
                           from: 1, myState: .leading, currentVote: current) == nil)
    }

    @Test func voteAgreementAcrossVersions() {
        let a = Vote(leader: 3, zxid: 5, electionEpoch: 2, peerEpoch: 2, state: .following, version: 2)
        #expect(a.agrees(with: Vote(leader: 3, zxid: 9, electionEpoch: 7, peerEpoch: 2, state: .leading, version: 2)))
        #expect(!a.agrees(with: Vote(leader: 3, zxid: 5, electionEpoch: 2, peerEpoch: 1, state: .leading, version: 2)))
        #expect(a.agrees(with: Vote(leader: 3, zxid: 5, electionEpoch: 2, peerEpoch: 1, state: .leading, version: 0)))
        #expect(!a.agrees(with: Vote(leader: 3, zxid: 5, electionEpoch: 3, peerEpoch: 2, state: .looking)))
    }
}
