// The learner's side of synchronisation (Learner.syncWithLeader), as a
// state machine over the packets between the sync header and UPTODATE: it
// says which txns to apply, log and commit, when to snapshot, persist the
// epoch and ACK. The Follower or Observer carries the actions out in order.
//
// One deliberate difference from Apache 3.8.0: the proposals received before
// NEWLEADER are logged (and fsynced) before its ACK is sent, as 3.8.5 does
// (ZOOKEEPER-4785), so an acknowledged txn cannot be missing from the log.
import ZKJute

public struct LearnerSyncState: Sendable {
    public enum Header: Sendable, Equatable {
        case diff, snap, trunc
    }

    public enum Action: Sendable, Equatable {
        /// Apply the proposal with this zxid to the tree without logging it
        /// (before NEWLEADER after SNAP/TRUNC: the snapshot at NEWLEADER keeps it).
        case apply(Int64)
        /// Append the proposal to the txn log (synced before the next ACK).
        case log(Int64)
        /// Apply a logged proposal (through the commit path) once serving.
        case commit(Int64)
        case takeSnapshot(syncSnapshot: Bool)
        case setCurrentEpoch(Int64)
        case ack(zxid: Int64)
        case startServing
    }

    public enum Failure: Error, Equatable, Sendable {
        case unexpectedPacket(Int32)
        case outOfOrderCommit(expected: Int64?, got: Int64)
    }

    public let newEpoch: Int64
    public let isObserver: Bool
    private let snapshotNeeded: Bool
    private let syncSnapshot: Bool
    private var writeToTxnLog: Bool
    private var notCommitted: [Int64] = []
    private var committed: [Int64] = []
    public private(set) var lastQueued: Int64 = 0
    public private(set) var done = false
    /// Warnings worth one log line (gaps in proposal zxids, stray commits).
    public private(set) var warnings: [String] = []

    public init(header: Header, newLeaderZxid: Int64, isObserver: Bool) {
        newEpoch = Zxid.epoch(newLeaderZxid)
        self.isObserver = isObserver
        snapshotNeeded = header != .diff
        syncSnapshot = header == .snap
        writeToTxnLog = header == .diff
    }

    /// One packet after the sync header; returns the actions it calls for.
    public mutating func receive(type: QuorumPacketType, zxid: Int64, newLeaderZxid: Int64 = 0) throws(Failure) -> [Action] {
        switch type {
        case .proposal:
            noteQueued(zxid)
            notCommitted.append(zxid)
            return []
        case .commit:
            if !writeToTxnLog {
                guard let first = notCommitted.first, first == zxid else {
                    warnings.append("Committing 0x\(String(zxid, radix: 16)), but next proposal is \(notCommitted.first.map { "0x" + String($0, radix: 16) } ?? "none")")
                    return []
                }
                notCommitted.removeFirst()
                return [.apply(zxid)]
            }
            committed.append(zxid)
            return []
        case .inform:
            noteQueued(zxid)
            if !writeToTxnLog { return [.apply(zxid)] }
            notCommitted.append(zxid)
            committed.append(zxid)
            return []
        case .newLeader:
            var actions: [Action] = []
            if snapshotNeeded { actions.append(.takeSnapshot(syncSnapshot: syncSnapshot)) }
            // Log what arrived so far before promising anything about it.
            if !isObserver {
                actions += notCommitted.map { .log($0) }
                notCommitted.removeAll()
            }
            actions.append(.setCurrentEpoch(newEpoch))
            writeToTxnLog = true
            actions.append(.ack(zxid: newLeaderZxid))
            return actions
        case .upToDate:
            done = true
            var actions: [Action] = [.ack(zxid: Zxid.make(epoch: newEpoch, counter: 0)), .startServing]
            if isObserver {
                // Observers apply what they were informed of, in order.
                for z in notCommitted {
                    guard let c = committed.first else { break }
                    if c != z {
                        warnings.append("Committing 0x\(String(c, radix: 16)), but next proposal is 0x\(String(z, radix: 16))")
                        continue
                    }
                    committed.removeFirst()
                    actions.append(.apply(z))
                }
            } else {
                actions += notCommitted.map { .log($0) }
                actions += committed.map { .commit($0) }
            }
            notCommitted.removeAll()
            committed.removeAll()
            return actions
        case .ping, .sync:
            // Apache's sync loop passes over anything else, pings included.
            return []
        default:
            throw .unexpectedPacket(type.rawValue)
        }
    }

    private mutating func noteQueued(_ zxid: Int64) {
        if lastQueued != 0 && zxid != lastQueued + 1 {
            warnings.append("Got zxid 0x\(String(zxid, radix: 16)) expected 0x\(String(lastQueued + 1, radix: 16))")
        }
        lastQueued = zxid
    }
}
