// The leader's proposal/ack/commit bookkeeping and the ReadIndex-style sync.
import Testing
import ZKJute
@testable import ZKQuorum

@Suite struct ProposalTrackerTests {
    static func view(_ voters: [Int64], observers: [Int64] = []) -> QuorumMaj {
        QuorumMaj(members: voters.map { QuorumServer(id: $0, host: "h", quorumPort: Int(2000 + $0), electionPort: Int(3000 + $0)) }
                  + observers.map { QuorumServer(id: $0, host: "h", quorumPort: Int(2000 + $0), electionPort: Int(3000 + $0), type: .observer) })
    }
    static func z(_ c: Int64) -> Int64 { Zxid.make(epoch: 1, counter: c) }

    @Test func commitsInOrderOnQuorum() {
        var t = ProposalTracker<String>(myid: 1, config: Self.view([1, 2, 3]), lastCommitted: Self.z(0))
        for c in 1...3 { t.propose(Self.z(Int64(c))) }
        do { let r = t.ack(from: 1, zxid: Self.z(2)); #expect(r.committed.isEmpty) }
        // 2 has a quorum but 1 does not: nothing commits out of order.
        do { let r = t.ack(from: 2, zxid: Self.z(2)); #expect(r.committed.isEmpty) }
        do { let r = t.ack(from: 1, zxid: Self.z(1)); #expect(r.committed.isEmpty) }
        do { let r = t.ack(from: 3, zxid: Self.z(1)); #expect(r.committed == [Self.z(1), Self.z(2)]) }
        #expect(t.lastCommitted == Self.z(2) && t.outstandingCount == 1)
        // late and duplicate acks change nothing
        do { let r = t.ack(from: 2, zxid: Self.z(1)); #expect(r.committed.isEmpty) }
        do { let r = t.ack(from: 1, zxid: Self.z(3)); #expect(r.committed.isEmpty) }
        do { let r = t.ack(from: 1, zxid: Self.z(3)); #expect(r.committed.isEmpty) }
        do { let r = t.ack(from: 3, zxid: Self.z(3)); #expect(r.committed == [Self.z(3)]) }
        #expect(t.oldestOutstanding == nil)
    }

    @Test func observersAndStrangersDoNotCount() {
        var t = ProposalTracker<String>(myid: 1, config: Self.view([1, 2, 3, 4, 5], observers: [9]), lastCommitted: 0)
        t.propose(Self.z(1))
        for sid: Int64 in [1, 9, 7, 2] { let r = t.ack(from: sid, zxid: Self.z(1)); #expect(r.committed.isEmpty) }
        do { let r = t.ack(from: 5, zxid: Self.z(1)); #expect(r.committed == [Self.z(1)]) }
    }

    @Test func newLeaderAcksAreNotProposals() {
        var t = ProposalTracker<String>(myid: 1, config: Self.view([1, 2, 3]), lastCommitted: 0)
        do { let r = t.ack(from: 2, zxid: Zxid.make(epoch: 2, counter: 0)); #expect(r.committed.isEmpty) }
        do { let r = t.ack(from: 2, zxid: Self.z(5)); #expect(r.committed.isEmpty) }   // never proposed
    }

    @Test func syncWaitsForOutstandingProposalsAndAFreshPingQuorum() {
        var t = ProposalTracker<String>(myid: 1, config: Self.view([1, 2, 3]), lastCommitted: 0)
        t.propose(Self.z(1))
        do { let r = t.sync("s1"); #expect(r == false) }
        // committed, but no ping sent since the sync arrived
        let r = t.ack(from: 1, zxid: Self.z(1))
        #expect(r.committed.isEmpty)
        let r2 = t.ack(from: 2, zxid: Self.z(1))
        #expect(r2.committed == [Self.z(1)] && r2.syncsReady.isEmpty)
        // A reply to a ping sent before the sync proves nothing.
        let old = t.pingRound
        do { let r = t.pingReply(from: 2, round: old); #expect(r.isEmpty) }
        let round = t.startPingRound()
        do { let r = t.pingReply(from: 3, round: round); #expect(r == ["s1"]) }
        do { let r = t.pingReply(from: 2, round: round); #expect(r.isEmpty) }
    }

    @Test func syncWithNothingOutstanding() {
        var t = ProposalTracker<String>(myid: 1, config: Self.view([1, 2, 3]), lastCommitted: 0)
        do { let r = t.sync("a"); #expect(r == false) }
        let round = t.startPingRound()
        do { let r = t.sync("b"); #expect(r == false) }   // arrived after the round started: needs the next one
        do { let r = t.pingReply(from: 2, round: round); #expect(r == ["a"]) }
        let next = t.startPingRound()
        t.removeLearner(2)
        do { let r = t.pingReply(from: 3, round: next); #expect(r == ["b"]) }
        // a single-voter ensemble answers at once
        var solo = ProposalTracker<String>(myid: 1, config: Self.view([1]), lastCommitted: 0)
        do { let r = solo.sync("c"); #expect(r) }
    }
}
