// The leader's choice of DIFF, TRUNC or SNAP (quorum-protocol.md §6), on the
// cases Apache's LearnerHandler distinguishes, including the ones seen live.
import Testing
import ZKJute
@testable import ZKQuorum

@Suite struct LearnerSyncPlanTests {
    static func z(_ epoch: Int64, _ counter: Int64) -> Int64 { Zxid.make(epoch: epoch, counter: counter) }

    static func plan(peer: Int64, last: Int64, committed: [Int64], txnLog: [Int64]? = nil) -> (Bool, [String], Int64) {
        let p = LearnerSyncPlan<Int64>.decide(peerLastZxid: peer, lastProcessedZxid: last, committedLog: committed,
                                               txnLog: txnLog, zxid: { $0 })
        return (p.snap, p.packets.map(\.description), p.currentZxid)
    }

    @Test func liveExamples() {
        // Learner one behind: DIFF to the leader's last commit, then the missing txn.
        #expect(Self.plan(peer: Self.z(1, 1), last: Self.z(1, 2), committed: [Self.z(1, 1), Self.z(1, 2)])
                == (false, ["DIFF(0x100000002)", "PROPOSAL+COMMIT(0x100000002)"], Self.z(1, 2)))
        // Learner current: an empty DIFF.
        #expect(Self.plan(peer: Self.z(1, 6), last: Self.z(1, 6), committed: (1...6).map { Self.z(1, $0) })
                == (false, ["DIFF(0x100000006)"], Self.z(1, 6)))
        // Learner ahead in the same epoch: TRUNC to the leader's last commit.
        #expect(Self.plan(peer: Self.z(1, 0x50), last: Self.z(1, 4), committed: (1...4).map { Self.z(1, $0) })
                == (false, ["TRUNC(0x100000004)"], Self.z(1, 4)))
    }

    @Test func uncommittedTxnInTheMiddleIsTruncated() {
        let r = Self.plan(peer: Self.z(1, 3), last: Self.z(1, 4), committed: [Self.z(1, 1), Self.z(1, 2), Self.z(1, 4)])
        #expect(r == (false, ["TRUNC(0x100000002)", "PROPOSAL+COMMIT(0x100000004)"], Self.z(1, 4)))
    }

    @Test func truncAcrossEpochsFallsBackToSnap() {
        let r = Self.plan(peer: Self.z(1, 5), last: Self.z(2, 1), committed: [Self.z(1, 3), Self.z(2, 1)])
        #expect(r == (true, [], Self.z(2, 1)))
    }

    @Test func learnerAtNewEpochStartGetsDiff() {
        let r = Self.plan(peer: Self.z(2, 0), last: Self.z(2, 2), committed: [Self.z(1, 9), Self.z(2, 1), Self.z(2, 2)])
        #expect(r == (false, ["DIFF(0x200000002)", "PROPOSAL+COMMIT(0x200000001)", "PROPOSAL+COMMIT(0x200000002)"], Self.z(2, 2)))
    }

    @Test func olderThanCommittedLogUsesTheTxnLog() {
        let txn = (1...0xa).map { Self.z(1, $0) }
        let committed = (8...0xc).map { Self.z(1, $0) }
        let r = Self.plan(peer: Self.z(1, 2), last: Self.z(1, 0xc), committed: committed, txnLog: txn)
        #expect(r.0 == false)
        let sent: [String] = (Int64(3)...0xc).map { "PROPOSAL+COMMIT(0x\(String(Self.z(1, $0), radix: 16)))" }
        #expect(r.1 == ["DIFF(0x10000000c)"] + sent)
        #expect(r.2 == Self.z(1, 0xc))
    }

    @Test func gapBetweenTxnLogAndCommittedLogMeansSnap() {
        let r = Self.plan(peer: Self.z(1, 2), last: Self.z(1, 0xc), committed: (8...0xc).map { Self.z(1, $0) },
                          txnLog: (1...5).map { Self.z(1, $0) })
        #expect(r == (true, [], Self.z(1, 0xc)))
    }

    @Test func tooFarBehindWithoutTxnLogMeansSnap() {
        #expect(Self.plan(peer: Self.z(1, 2), last: Self.z(1, 0xc), committed: (8...0xc).map { Self.z(1, $0) }).0)
        #expect(Self.plan(peer: Self.z(1, 2), last: Self.z(1, 0xc), committed: (8...0xc).map { Self.z(1, $0) }, txnLog: []).0)
        // Empty committed log: anything but an equal zxid is a SNAP.
        #expect(Self.plan(peer: Self.z(1, 2), last: Self.z(1, 3), committed: []).0)
        #expect(Self.plan(peer: Self.z(1, 3), last: Self.z(1, 3), committed: []) == (false, ["DIFF(0x100000003)"], Self.z(1, 3)))
    }

    @Test func forcedSnap() {
        let p = LearnerSyncPlan<Int64>.decide(peerLastZxid: 5, lastProcessedZxid: 5, committedLog: [5], txnLog: nil, zxid: { $0 }, forceSnap: true)
        #expect(p.snap && p.currentZxid == 5)
    }
}
