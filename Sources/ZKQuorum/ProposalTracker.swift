// The leader's bookkeeping of ZAB broadcast (Leader.propose, processAck,
// tryToCommit, processSync): which proposals wait for acks, which commit and
// in what order, and when a learner's `sync` may be answered. Pure: the
// Leader feeds it proposals, acks and ping replies and sends what it says.
import ZKJute

public struct ProposalTracker<SyncToken> {
    public var config: QuorumMaj
    public private(set) var lastCommitted: Int64
    /// zxid -> sids that acked it, for proposals not yet committed.
    private var acks: [Int64: Set<Int64>] = [:]
    /// Outstanding zxids in proposal order.
    private var order: [Int64] = []
    private var orderHead = 0
    /// Syncs waiting for the proposal that was newest when they arrived.
    private var pendingSyncs: [Int64: [PendingSync]] = [:]
    /// Syncs whose proposals are committed but whose ping round is not confirmed yet.
    private var waitingForPings: [PendingSync] = []
    /// Ping rounds: a learner confirms round r by answering a ping sent in round r or later.
    public private(set) var pingRound: Int64 = 0
    private var confirmedRound: [Int64: Int64] = [:]
    private let myid: Int64

    struct PendingSync {
        var token: SyncToken
        /// Replies to pings of this round or later prove no newer leader exists.
        var round: Int64
    }

    public init(myid: Int64, config: QuorumMaj, lastCommitted: Int64) {
        self.myid = myid
        self.config = config
        self.lastCommitted = lastCommitted
    }

    public var outstandingCount: Int { order.count - orderHead }
    public var oldestOutstanding: Int64? { orderHead < order.count ? order[orderHead] : nil }
    public var newestOutstanding: Int64? { orderHead < order.count ? order.last : nil }

    /// Registers a proposal; the leader's own ack comes through `ack` once it is logged.
    public mutating func propose(_ zxid: Int64) {
        acks[zxid] = []
        order.append(zxid)
    }

    /// Records an ack and returns the zxids that commit because of it, in
    /// order. A proposal commits when a quorum of voters acked it and every
    /// earlier one has committed (tryToCommit).
    public mutating func ack(from sid: Int64, zxid: Int64) -> (committed: [Int64], syncsReady: [SyncToken]) {
        // NEWLEADER/UPTODATE acks carry counter 0 and are not proposals.
        guard Zxid.counter(zxid) != 0, zxid > lastCommitted, acks[zxid] != nil else { return ([], []) }
        acks[zxid]!.insert(sid)
        var committed: [Int64] = []
        var ready: [SyncToken] = []
        while let z = oldestOutstanding, let a = acks[z], config.containsQuorum(a) {
            acks[z] = nil
            orderHead += 1
            lastCommitted = z
            committed.append(z)
            for s in pendingSyncs.removeValue(forKey: z) ?? [] {
                if roundConfirmed(s.round) { ready.append(s.token) } else { waitingForPings.append(s) }
            }
        }
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
        return (committed, ready)
    }

    /// A learner's `sync`: answered once every proposal outstanding now has
    /// committed and a quorum has answered a ping sent after it arrived, so a
    /// deposed leader that has not noticed cannot answer it (ZOOKEEPER-1675).
    /// Returns true when it may be answered at once.
    public mutating func sync(_ token: SyncToken) -> Bool {
        let s = PendingSync(token: token, round: pingRound + 1)
        if let newest = newestOutstanding {
            pendingSyncs[newest, default: []].append(s)
            return false
        }
        if roundConfirmed(s.round) { return true }
        waitingForPings.append(s)
        return false
    }

    /// The leader starts a ping round: call before sending PING to every learner.
    /// Returns the round number to remember per learner with the ping.
    public mutating func startPingRound() -> Int64 {
        pingRound += 1
        return pingRound
    }

    /// A learner answered a ping of `round`; returns the syncs now answerable.
    public mutating func pingReply(from sid: Int64, round: Int64) -> [SyncToken] {
        if round > confirmedRound[sid, default: 0] { confirmedRound[sid] = round }
        var ready: [SyncToken] = []
        var still: [PendingSync] = []
        for s in waitingForPings {
            if roundConfirmed(s.round) { ready.append(s.token) } else { still.append(s) }
        }
        waitingForPings = still
        return ready
    }

    /// Forgets a learner's ping confirmations (it disconnected).
    public mutating func removeLearner(_ sid: Int64) { confirmedRound[sid] = nil }

    private func roundConfirmed(_ round: Int64) -> Bool {
        // The leader itself is always current.
        var sids: Set<Int64> = [myid]
        for (sid, r) in confirmedRound where r >= round { sids.insert(sid) }
        return config.containsQuorum(sids)
    }
}
