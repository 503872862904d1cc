// Discovery: epoch choice, ACKEPOCH quorum, NEWLEADER quorum, and the
// learner's answer to LEADERINFO, with the packet payloads Apache sent.
import NIOCore
import Testing
import ZKJute
@testable import ZKQuorum

@Suite struct EpochAgreementTests {
    static let view = ProposalTrackerTests.view([1, 2, 3, 4, 5], observers: [9])

    @Test func epochIsOnePastTheHighestAcceptedOfTheFirstQuorum() {
        var a = EpochAgreement(myid: 3, config: Self.view)
        do { let v = a.connect(sid: 3, lastAcceptedEpoch: 4); #expect(v == nil) }
        do { let v = a.connect(sid: 9, lastAcceptedEpoch: 40); #expect(v == nil) }   // observers do not count...
        #expect(a.epoch == 41)                                      // ...but their epoch does, as in Apache
        do { let v = a.connect(sid: 1, lastAcceptedEpoch: 2); #expect(v == nil) }
        do { let v = a.connect(sid: 5, lastAcceptedEpoch: 7); #expect(v == 41) }
        #expect(!a.waitingForNewEpoch)
        // latecomers get the settled epoch
        do { let v = a.connect(sid: 2, lastAcceptedEpoch: 99); #expect(v == 41) }
    }

    @Test func quorumMustIncludeTheLeader() {
        var a = EpochAgreement(myid: 3, config: Self.view)
        for sid: Int64 in [1, 2, 4] { do { let v = a.connect(sid: sid, lastAcceptedEpoch: 1); #expect(v == nil) } }
        do { let v = a.connect(sid: 3, lastAcceptedEpoch: 1); #expect(v == 2) }
    }

    @Test func ackEpochQuorumAndAFollowerAhead() throws {
        var a = EpochAgreement(myid: 1, config: ProposalTrackerTests.view([1, 2, 3]))
        let leader = (currentEpoch: Int64(1), lastZxid: Zxid.make(epoch: 1, counter: 5))
        do { let v = try a.ackEpoch(sid: 1, currentEpoch: 1, lastZxid: leader.lastZxid, leader: leader); #expect(v == false) }
        // -1: it had accepted this epoch already; it does not count
        do { let v = try a.ackEpoch(sid: 2, currentEpoch: -1, lastZxid: Zxid.make(epoch: 1, counter: 3), leader: leader); #expect(v == false) }
        #expect(throws: EpochAgreement.FollowerAhead.self) {
            try a.ackEpoch(sid: 3, currentEpoch: 1, lastZxid: Zxid.make(epoch: 1, counter: 6), leader: leader)
        }
        do { let v = try a.ackEpoch(sid: 3, currentEpoch: 1, lastZxid: Zxid.make(epoch: 1, counter: 2), leader: leader); #expect(v) }
        #expect(a.electionFinished)
    }

    @Test func newLeaderAcksCountOnlyForThisEpoch() {
        var a = EpochAgreement(myid: 1, config: ProposalTrackerTests.view([1, 2, 3]))
        _ = a.connect(sid: 1, lastAcceptedEpoch: 1)
        _ = a.connect(sid: 2, lastAcceptedEpoch: 1)
        #expect(a.epoch == 2)
        do { let v = a.ackNewLeader(sid: 1, zxid: Zxid.make(epoch: 2, counter: 0)); #expect(!v) }
        do { let v = a.ackNewLeader(sid: 3, zxid: Zxid.make(epoch: 1, counter: 0)); #expect(!v) }
        do { let v = a.ackNewLeader(sid: 2, zxid: Zxid.make(epoch: 2, counter: 0)); #expect(v) }
    }

    @Test func learnerAnswersLeaderInfo() {
        #expect(LearnerEpochDecision.on(newEpoch: 1, acceptedEpoch: 0, currentEpoch: 0) == .accept(epoch: 1, ackData: 0))
        #expect(LearnerEpochDecision.on(newEpoch: 1, acceptedEpoch: 1, currentEpoch: 1) == .alreadyAccepted)
        if case .reject(let why) = LearnerEpochDecision.on(newEpoch: 1, acceptedEpoch: 2, currentEpoch: 1) {
            #expect(why.contains("less than accepted epoch"))
        } else { Issue.record("an older epoch must be refused") }
    }

    @Test func payloadsAsApacheSendsThem() throws {
        // ACKEPOCH data for currentEpoch 0 and for "already accepted".
        #expect(EpochPayload.int(0) == [0, 0, 0, 0])
        #expect(EpochPayload.int(-1) == [0xff, 0xff, 0xff, 0xff])
        #expect(try EpochPayload.readInt([0, 1, 0, 0]) == 0x10000)
        // The PING reply with one touch, and the REVALIDATE answer for an unknown session.
        let touches = try SessionTouches.decode([0x03, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0x75, 0x30])
        #expect(touches.count == 1 && touches[0].id == 0x0300_0000_0000_0042 && touches[0].timeout == 30000)
        #expect(SessionTouches.encode(touches) == [0x03, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0x75, 0x30])
        #expect(try SessionTouches.decode(nil).isEmpty)
        #expect(throws: JuteError.self) { try SessionTouches.decode([1, 2, 3]) }
        #expect(Revalidate.reply(sessionId: 0x0300_0000_0000_0001, valid: false) == [3, 0, 0, 0, 0, 0, 0, 1, 0])
        let r = try Revalidate.readRequest(Revalidate.request(sessionId: 7, timeout: 4000))
        #expect(r.sessionId == 7 && r.timeout == 4000)
        // A forwarded createSession: session, cxid 0, type -10, then the timeout.
        let fwd = ForwardedRequest(sessionId: 0x0300_0000_0000_0042, cxid: 0, type: -10, body: [0, 0, 0x75, 0x30])
        #expect(fwd.bytes == [3, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf6, 0, 0, 0x75, 0x30])
        #expect(try ForwardedRequest(bytes: fwd.bytes) == fwd)
    }
}
