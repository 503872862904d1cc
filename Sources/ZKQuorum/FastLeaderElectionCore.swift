// The decisions of Fast Leader Election (FastLeaderElection.lookForLeader and
// its WorkerReceiver), as a value with no threads, sockets or clock: the
// driver feeds it notifications and timeouts and sends what it says. Rules
// and their order are Apache ZooKeeper 3.8's (quorum-protocol.md §4), so a
// zkswiftd peer and Apache peers elect the same leader.
import ZKJute

/// A vote as FLE keeps it (Vote.java).
public struct Vote: Sendable, CustomStringConvertible {
    public var leader: Int64
    public var zxid: Int64
    public var electionEpoch: Int64
    public var peerEpoch: Int64
    public var state: ServerState
    /// Notification format version; Apache's 4- and 5-argument constructors leave 0.
    public var version: Int32

    public init(leader: Int64, zxid: Int64, electionEpoch: Int64, peerEpoch: Int64,
                state: ServerState = .looking, version: Int32 = 0) {
        self.leader = leader; self.zxid = zxid; self.electionEpoch = electionEpoch; self.peerEpoch = peerEpoch
        self.state = state; self.version = version
    }

    /// Vote.equals: everything while either side is LOOKING; otherwise the
    /// leader and its epoch, or only the leader across notification versions
    /// 0 and >0 (ZOOKEEPER-1805, ZOOKEEPER-1732).
    public func agrees(with o: Vote) -> Bool {
        if state == .looking || o.state == .looking {
            return leader == o.leader && zxid == o.zxid && electionEpoch == o.electionEpoch && peerEpoch == o.peerEpoch
        }
        if (version > 0) != (o.version > 0) { return leader == o.leader }
        return leader == o.leader && peerEpoch == o.peerEpoch
    }

    public var description: String {
        "(\(leader), 0x\(String(zxid, radix: 16)), 0x\(String(peerEpoch, radix: 16)))"
    }
}

public struct FastLeaderElectionCore: Sendable {
    public let myid: Int64
    public var config: QuorumMaj
    public private(set) var logicalclock: Int64 = 0
    public private(set) var proposedLeader: Int64 = .min
    public private(set) var proposedZxid: Int64 = .min
    public private(set) var proposedEpoch: Int64 = .min
    /// Votes of this round, by sender; and FOLLOWING/LEADING votes of any round.
    private var recvset: [Int64: Vote] = [:]
    private var outofelection: [Int64: Vote] = [:]
    private var initLastLoggedZxid: Int64 = .min
    private var initEpoch: Int64 = .min

    public init(myid: Int64, config: QuorumMaj) {
        self.myid = myid
        self.config = config
    }

    public var isParticipant: Bool { config.isVoter(myid) }

    /// Where a decided election leaves this peer.
    public enum Outcome: Equatable, Sendable {
        case leading
        case following(leader: Int64)
        case observing(leader: Int64)
    }

    /// What the driver does after a notification.
    public struct Step: Sendable {
        /// Send the current proposal to every voter (sendNotifications).
        public var broadcast = false
        /// A quorum agrees with the proposal: read on for finalizeWait and
        /// decide unless a better vote arrives (see `beatsProposal`).
        public var quorumReached = false
        /// Decided at once (FOLLOWING/LEADING notifications).
        public var decided: (vote: Vote, outcome: Outcome)? = nil
    }

    /// totalOrderPredicate: epoch, then zxid, then sid. QuorumMaj gives every
    /// id weight 1, so there is no weight check to make.
    public static func beats(newId: Int64, newZxid: Int64, newEpoch: Int64, curId: Int64, curZxid: Int64, curEpoch: Int64) -> Bool {
        newEpoch > curEpoch || (newEpoch == curEpoch && (newZxid > curZxid || (newZxid == curZxid && newId > curId)))
    }

    /// Starts a round on entering LOOKING; the driver then broadcasts `proposalNotification`.
    public mutating func startRound(lastLoggedZxid: Int64, currentEpoch: Int64) {
        logicalclock += 1
        recvset = [:]
        outofelection = [:]
        // An observer (or a server outside the voting view) proposes nobody.
        initLastLoggedZxid = isParticipant ? lastLoggedZxid : .min
        initEpoch = isParticipant ? currentEpoch : .min
        setProposal(initId, initLastLoggedZxid, initEpoch)
    }

    private var initId: Int64 { isParticipant ? myid : .min }

    private mutating func setProposal(_ leader: Int64, _ zxid: Int64, _ epoch: Int64) {
        proposedLeader = leader; proposedZxid = zxid; proposedEpoch = epoch
    }

    /// The current proposal as a LOOKING notification of this round.
    public func proposalNotification(state: ServerState = .looking) -> ElectionNotification {
        ElectionNotification(state: state, leader: proposedLeader, zxid: proposedZxid, electionEpoch: logicalclock,
                             peerEpoch: proposedEpoch, config: config.configText)
    }

    public var proposal: Vote {
        Vote(leader: proposedLeader, zxid: proposedZxid, electionEpoch: logicalclock, peerEpoch: proposedEpoch)
    }

    /// During finalizeWait: a notification that beats the proposal ends the
    /// wait (the driver puts it back and goes on); any other is dropped.
    public func beatsProposal(_ n: ElectionNotification) -> Bool {
        Self.beats(newId: n.leader, newZxid: n.zxid, newEpoch: n.peerEpoch,
                   curId: proposedLeader, curZxid: proposedZxid, curEpoch: proposedEpoch)
    }

    /// finalizeWait passed quietly: the proposal wins.
    public func decide() -> (vote: Vote, outcome: Outcome) {
        (proposal, outcome(for: proposedLeader))
    }

    private func outcome(for leader: Int64) -> Outcome {
        if leader == myid { return .leading }
        return isParticipant ? .following(leader: leader) : .observing(leader: leader)
    }

    /// One notification from `sid` while LOOKING (the body of lookForLeader's loop).
    public mutating func receive(_ n: ElectionNotification, from sid: Int64) -> Step {
        var step = Step()
        // Only votes from and for members of the voting view count.
        guard config.isVoter(sid), config.isVoter(n.leader) else { return step }
        switch n.state {
        case .looking:
            // Empty, untrusted databases take no part.
            if initLastLoggedZxid == -1 || n.zxid == -1 { return step }
            if n.electionEpoch > logicalclock {
                logicalclock = n.electionEpoch
                recvset = [:]
                if Self.beats(newId: n.leader, newZxid: n.zxid, newEpoch: n.peerEpoch,
                              curId: initId, curZxid: initLastLoggedZxid, curEpoch: initEpoch) {
                    setProposal(n.leader, n.zxid, n.peerEpoch)
                } else {
                    setProposal(initId, initLastLoggedZxid, initEpoch)
                }
                step.broadcast = true
            } else if n.electionEpoch < logicalclock {
                return step
            } else if beatsProposal(n) {
                setProposal(n.leader, n.zxid, n.peerEpoch)
                step.broadcast = true
            }
            recvset[sid] = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch)
            step.quorumReached = hasQuorum(recvset, agreeingWith: proposal)
        case .observing:
            break
        case .following, .leading:
            step.decided = receivedFromLearnerOrLeader(n, from: sid)
        }
        return step
    }

    /// receivedFollowingNotification / receivedLeadingNotification (without
    /// the 2-node oracle): join an election that has already ended.
    private mutating func receivedFromLearnerOrLeader(_ n: ElectionNotification, from sid: Int64) -> (vote: Vote, outcome: Outcome)? {
        let theirs = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch,
                          state: n.state, version: n.version)
        let end = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch)
        if n.electionEpoch == logicalclock {
            // Apache records these with version 0, so the agreement check
            // below compares leader ids only against a version-2 vote.
            recvset[sid] = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state)
            if hasQuorum(recvset, agreeingWith: theirs), checkLeader(recvset, leader: n.leader, electionEpoch: n.electionEpoch) {
                return (end, outcome(for: n.leader))
            }
        }
        outofelection[sid] = theirs
        if hasQuorum(outofelection, agreeingWith: theirs), checkLeader(outofelection, leader: n.leader, electionEpoch: n.electionEpoch) {
            logicalclock = n.electionEpoch
            return (end, outcome(for: n.leader))
        }
        return nil
    }

    private func hasQuorum(_ votes: [Int64: Vote], agreeingWith v: Vote) -> Bool {
        config.containsQuorum(Set(votes.filter { v.agrees(with: $0.value) }.keys))
    }

    /// The proposed leader must itself say it leads, or be us in this round.
    private func checkLeader(_ votes: [Int64: Vote], leader: Int64, electionEpoch: Int64) -> Bool {
        if leader != myid { return votes[leader]?.state == .leading }
        return logicalclock == electionEpoch
    }

    /// The WorkerReceiver's immediate answer to a notification, sent whatever
    /// the main loop does with it. `currentVote` is the vote the peer settled
    /// on last (QuorumPeer.getCurrentVote).
    public func reply(to n: ElectionNotification, from sid: Int64, myState: ServerState, currentVote: Vote) -> ElectionNotification? {
        if !config.isVoter(sid) {
            return ElectionNotification(state: myState, leader: currentVote.leader, zxid: currentVote.zxid,
                                        electionEpoch: logicalclock, peerEpoch: currentVote.peerEpoch, config: config.configText)
        }
        if myState == .looking {
            // A LOOKING peer behind us in rounds hears our proposal.
            guard n.state == .looking, n.electionEpoch < logicalclock else { return nil }
            return proposalNotification()
        }
        // Settled: a LOOKING peer is told whom we follow or that we lead.
        guard n.state == .looking else { return nil }
        return ElectionNotification(state: myState, leader: currentVote.leader, zxid: currentVote.zxid,
                                    electionEpoch: currentVote.electionEpoch, peerEpoch: currentVote.peerEpoch,
                                    config: config.configText)
    }
}
