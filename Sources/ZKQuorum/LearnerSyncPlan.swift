// How a leader brings a learner up to date (LearnerHandler.syncFollower and
// queueCommittedProposals, quorum-protocol.md §6): an empty DIFF, TRUNC,
// DIFF or TRUNC followed by committed proposals, or a full SNAP. Pure: the
// caller hands in the committed log (and, when it can, the proposals read
// from its txn log after the learner's zxid) and sends what comes out.
import ZKJute

public enum SyncPacket<P>: CustomStringConvertible {
    case diff(Int64)
    case trunc(Int64)
    /// A committed proposal, sent as PROPOSAL then COMMIT.
    case proposal(P, zxid: Int64)

    public var description: String {
        switch self {
        case .diff(let z): "DIFF(0x\(String(z, radix: 16)))"
        case .trunc(let z): "TRUNC(0x\(String(z, radix: 16)))"
        case .proposal(_, let z): "PROPOSAL+COMMIT(0x\(String(z, radix: 16)))"
        }
    }
}

public struct LearnerSyncPlan<P> {
    /// Send the whole database (SNAP) instead of `packets`.
    public var snap: Bool
    public var packets: [SyncPacket<P>]
    /// The last zxid the learner will have once the packets (or the snapshot)
    /// are applied: forwarding of newer proposals starts after it.
    public var currentZxid: Int64

    /// - committedLog: the leader's in-memory committed proposals, ascending.
    /// - txnLog: proposals from the leader's txn log starting at or before
    ///   `peerLastZxid`, ascending, when on-disk sync is enabled and the logs
    ///   are small enough (nil or empty: not available).
    public static func decide(peerLastZxid: Int64, lastProcessedZxid: Int64, committedLog: [P], txnLog: [P]?,
                              zxid: @escaping (P) -> Int64, forceSnap: Bool = false) -> LearnerSyncPlan<P> {
        var walk = Walk<P>(zxid: zxid)
        let isPeerNewEpochZxid = Zxid.counter(peerLastZxid) == 0
        var currentZxid = peerLastZxid
        var needSnap = true
        // An empty committed log still brackets the leader's own state.
        let minCommitted = committedLog.first.map(zxid) ?? lastProcessedZxid
        let maxCommitted = committedLog.last.map(zxid) ?? lastProcessedZxid
        if forceSnap {
            // keep needSnap
        } else if lastProcessedZxid == peerLastZxid {
            walk.packets.append(.diff(peerLastZxid))
            walk.needOpPacket = false
            needSnap = false
        } else if peerLastZxid > maxCommitted && !isPeerNewEpochZxid {
            // The learner has txns the leader never committed: it cuts them.
            walk.packets.append(.trunc(maxCommitted))
            currentZxid = maxCommitted
            walk.needOpPacket = false
            needSnap = false
        } else if minCommitted <= peerLastZxid && peerLastZxid <= maxCommitted {
            currentZxid = walk.queue(committedLog, peerLastZxid: peerLastZxid, maxZxid: nil, lastCommittedZxid: maxCommitted)
            needSnap = false
        } else if peerLastZxid < minCommitted, let txnLog, !txnLog.isEmpty {
            currentZxid = walk.queue(txnLog, peerLastZxid: peerLastZxid, maxZxid: minCommitted, lastCommittedZxid: maxCommitted)
            if currentZxid < minCommitted {
                // The logs on disk end before the committed log starts: a gap.
                currentZxid = peerLastZxid
                walk.packets.removeAll()
                walk.needOpPacket = true
            } else {
                currentZxid = walk.queue(committedLog, peerLastZxid: currentZxid, maxZxid: nil, lastCommittedZxid: maxCommitted)
                needSnap = false
            }
        }
        // A walk that found no way to start (a TRUNC across epochs) falls back to SNAP.
        if walk.needOpPacket && !needSnap { needSnap = true }
        if needSnap { return LearnerSyncPlan(snap: true, packets: [], currentZxid: lastProcessedZxid) }
        return LearnerSyncPlan(snap: false, packets: walk.packets, currentZxid: currentZxid)
    }
}

/// queueCommittedProposals: the DIFF or TRUNC that starts the stream, then
/// every proposal the learner lacks, each followed by its COMMIT.
private struct Walk<P> {
    let zxid: (P) -> Int64
    var packets: [SyncPacket<P>] = []
    var needOpPacket = true

    init(zxid: @escaping (P) -> Int64) { self.zxid = zxid }

    mutating func queue(_ proposals: [P], peerLastZxid: Int64, maxZxid: Int64?, lastCommittedZxid: Int64) -> Int64 {
        let isPeerNewEpochZxid = Zxid.counter(peerLastZxid) == 0
        var queuedZxid = peerLastZxid
        var prevProposalZxid: Int64 = -1
        for p in proposals {
            let z = zxid(p)
            if let maxZxid, z > maxZxid { break }
            if z < peerLastZxid {
                prevProposalZxid = z
                continue
            }
            if needOpPacket {
                if z == peerLastZxid {
                    // The learner's last txn is in our history: DIFF from there.
                    packets.append(.diff(lastCommittedZxid))
                    needOpPacket = false
                    continue
                }
                if isPeerNewEpochZxid {
                    packets.append(.diff(lastCommittedZxid))
                    needOpPacket = false
                } else if z > peerLastZxid {
                    // The learner has a txn we never saw; a TRUNC may not
                    // cross an epoch, so that case is left to SNAP.
                    if Zxid.epoch(z) != Zxid.epoch(peerLastZxid) { return queuedZxid }
                    packets.append(.trunc(prevProposalZxid))
                    needOpPacket = false
                }
            }
            if z <= queuedZxid { continue }
            packets.append(.proposal(p, zxid: z))
            queuedZxid = z
        }
        if needOpPacket && isPeerNewEpochZxid {
            packets.append(.diff(lastCommittedZxid))
            needOpPacket = false
        }
        return queuedZxid
    }
}
