// Discovery (quorum-protocol.md §5.3): how a new leader and its learners
// agree on the epoch, and when enough of them are on board. The leader side
// is Leader.getEpochToPropose / waitForEpochAck / waitForNewLeaderAck without
// the waiting, which the Leader does on a condition with initLimit ticks as
// its deadline; the learner side is Learner.registerWithLeader's rule.
import ZKJute

public struct EpochAgreement: Sendable {
    public let myid: Int64
    public let config: QuorumMaj
    /// The epoch to propose: one past the highest acceptedEpoch of the first quorum.
    public private(set) var epoch: Int64 = -1
    public private(set) var waitingForNewEpoch = true
    private var connecting: Set<Int64> = []
    public private(set) var electionFinished = false
    private var electing: Set<Int64> = []
    public private(set) var newLeaderAcked = false
    private var newLeaderAcks: Set<Int64> = []

    public init(myid: Int64, config: QuorumMaj) {
        self.myid = myid
        self.config = config
    }

    /// A participant (or the leader itself) reports its acceptedEpoch.
    /// Returns the epoch once a quorum including the leader has reported;
    /// nil while the caller must still wait.
    public mutating func connect(sid: Int64, lastAcceptedEpoch: Int64) -> Int64? {
        guard waitingForNewEpoch else { return epoch }
        if lastAcceptedEpoch >= epoch { epoch = lastAcceptedEpoch + 1 }
        if config.isVoter(sid) { connecting.insert(sid) }
        if connecting.contains(myid) && config.containsQuorum(connecting) {
            waitingForNewEpoch = false
            return epoch
        }
        return nil
    }

    public struct FollowerAhead: Error, CustomStringConvertible, Equatable {
        public var sid: Int64
        public var description: String
    }

    /// A learner's ACKEPOCH ({currentEpoch, lastZxid}); `leader` is the
    /// leader's own summary. True once a quorum including the leader acked.
    /// A learner more recent than the leader is refused (it must not lose data).
    public mutating func ackEpoch(sid: Int64, currentEpoch: Int64, lastZxid: Int64,
                                  leader: (currentEpoch: Int64, lastZxid: Int64)) throws(FollowerAhead) -> Bool {
        guard !electionFinished else { return true }
        if currentEpoch != -1 {
            if currentEpoch > leader.currentEpoch || (currentEpoch == leader.currentEpoch && lastZxid > leader.lastZxid) {
                throw FollowerAhead(sid: sid, description: "Follower \(sid) is ahead of the leader: its epoch \(currentEpoch), zxid 0x\(String(lastZxid, radix: 16)); the leader's epoch \(leader.currentEpoch), zxid 0x\(String(leader.lastZxid, radix: 16))")
            }
            if lastZxid != -1 && config.isVoter(sid) { electing.insert(sid) }
        }
        if electing.contains(myid) && config.containsQuorum(electing) { electionFinished = true }
        return electionFinished
    }

    /// An ACK of NEWLEADER for this epoch; true once a quorum including the leader acked.
    public mutating func ackNewLeader(sid: Int64, zxid: Int64) -> Bool {
        guard !newLeaderAcked else { return true }
        guard zxid == Zxid.make(epoch: epoch, counter: 0) else { return false }
        if config.isVoter(sid) { newLeaderAcks.insert(sid) }
        if newLeaderAcks.contains(myid) && config.containsQuorum(newLeaderAcks) { newLeaderAcked = true }
        return newLeaderAcked
    }
}

/// What a learner does with LEADERINFO (Learner.registerWithLeader).
public enum LearnerEpochDecision: Equatable, Sendable {
    /// A new epoch: persist acceptedEpoch := epoch, then ACKEPOCH carrying currentEpoch.
    case accept(epoch: Int64, ackData: Int32)
    /// Already accepted: ACKEPOCH carrying -1.
    case alreadyAccepted
    /// An older epoch than one already promised: leave this leader.
    case reject(String)

    public static func on(newEpoch: Int64, acceptedEpoch: Int64, currentEpoch: Int64) -> LearnerEpochDecision {
        if newEpoch > acceptedEpoch { return .accept(epoch: newEpoch, ackData: Int32(truncatingIfNeeded: currentEpoch)) }
        if newEpoch == acceptedEpoch { return .alreadyAccepted }
        return .reject("Leaders epoch, \(newEpoch) is less than accepted epoch, \(acceptedEpoch)")
    }
}
