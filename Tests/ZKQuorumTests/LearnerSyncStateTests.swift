// The learner's sync state machine on the flows seen live (DIFF, SNAP) and
// the observer's, with proposals arriving before and after NEWLEADER.
import Testing
import ZKJute
@testable import ZKQuorum

@Suite struct LearnerSyncStateTests {
    static let newLeader = Zxid.make(epoch: 2, counter: 0)
    static func z(_ c: Int64) -> Int64 { Zxid.make(epoch: 1, counter: c) }

    static func run(_ header: LearnerSyncState.Header, observer: Bool = false,
                    _ packets: [(QuorumPacketType, Int64)]) throws -> ([[LearnerSyncState.Action]], LearnerSyncState) {
        var s = LearnerSyncState(header: header, newLeaderZxid: newLeader, isObserver: observer)
        var out: [[LearnerSyncState.Action]] = []
        for (t, z) in packets { out.append(try s.receive(type: t, zxid: z, newLeaderZxid: newLeader)) }
        return (out, s)
    }

    @Test func diffLogsBeforeAckingNewLeaderAndCommitsWhenUpToDate() throws {
        let (a, s) = try Self.run(.diff, [(.proposal, Self.z(2)), (.commit, Self.z(2)), (.newLeader, Self.newLeader),
                                         (.proposal, Self.z(3)), (.ping, 0), (.commit, Self.z(3)), (.upToDate, -1)])
        #expect(a[0] == [] && a[1] == [])
        #expect(a[2] == [.log(Self.z(2)), .setCurrentEpoch(2), .ack(zxid: Self.newLeader)])
        #expect(a[6] == [.ack(zxid: Self.newLeader), .startServing, .log(Self.z(3)), .commit(Self.z(2)), .commit(Self.z(3))])
        #expect(s.done && s.warnings.isEmpty)
    }

    @Test func snapAppliesInMemoryUntilTheSnapshotAtNewLeader() throws {
        let (a, _) = try Self.run(.snap, [(.proposal, Self.z(5)), (.commit, Self.z(5)), (.proposal, Self.z(6)),
                                         (.newLeader, Self.newLeader), (.commit, Self.z(6)), (.upToDate, -1)])
        #expect(a[1] == [.apply(Self.z(5))])
        // 6 was proposed but not committed before NEWLEADER: logged, committed later.
        #expect(a[3] == [.takeSnapshot(syncSnapshot: true), .log(Self.z(6)), .setCurrentEpoch(2), .ack(zxid: Self.newLeader)])
        #expect(a[5] == [.ack(zxid: Self.newLeader), .startServing, .commit(Self.z(6))])
    }

    @Test func truncSnapshotsWithoutSync() throws {
        let (a, _) = try Self.run(.trunc, [(.newLeader, Self.newLeader), (.upToDate, -1)])
        #expect(a[0] == [.takeSnapshot(syncSnapshot: false), .setCurrentEpoch(2), .ack(zxid: Self.newLeader)])
    }

    @Test func observerAppliesWhatItWasInformedOf() throws {
        let (a, _) = try Self.run(.diff, observer: true, [(.proposal, Self.z(2)), (.commit, Self.z(2)), (.newLeader, Self.newLeader),
                                                         (.inform, Self.z(3)), (.upToDate, -1)])
        #expect(a[2] == [.setCurrentEpoch(2), .ack(zxid: Self.newLeader)])
        #expect(a[4] == [.ack(zxid: Self.newLeader), .startServing, .apply(Self.z(2)), .apply(Self.z(3))])
    }

    @Test func strayCommitsAndGapsAreWarningsAndOddPacketsErrors() throws {
        let (a, s) = try Self.run(.snap, [(.commit, Self.z(9)), (.proposal, Self.z(2)), (.proposal, Self.z(4))])
        #expect(a[0] == [])
        #expect(s.warnings.count == 2)
        var t = LearnerSyncState(header: .diff, newLeaderZxid: Self.newLeader, isObserver: false)
        #expect(throws: LearnerSyncState.Failure.self) { try t.receive(type: .followerInfo, zxid: 0) }
    }
}
