// The server's in-memory database: the DataTree behind one lock, shared by
// PrepRequestProcessor (reads what the tree holds), FinalRequestProcessor
// (applies txns, serves reads), the snapshot writer and the four-letter words.
// In an ensemble one database outlives the servers of each role, so it also
// keeps the committed sessions (ZKDatabase.sessionsWithTimeouts in Apache).
import NIOConcurrencyHelpers
import ZKData
import ZKJute
import ZKPersistence

public final class ZKDatabase: @unchecked Sendable {
    // `tree` is guarded by `lock`
    private let lock = NIOLock()
    private var tree: DataTree
    /// Ensemble members only; updated with the tree under the same lock, so
    /// a leader sees the two agree when it plans a learner's sync.
    private var committedLog: CommittedLog?
    /// Committed sessions and their timeouts, as snapshots record them.
    public let sessions = NIOLockedValueBox<[Int64: Int32]>([:])
    /// The newest snapshot this process wrote: its zxid, and when (seconds
    /// since the epoch), for the AdminServer's last_snapshot.
    private let lastSnapshotBox = NIOLockedValueBox<(zxid: Int64, timestamp: Int64)?>(nil)
    public var lastSnapshot: (zxid: Int64, timestamp: Int64)? {
        get { lastSnapshotBox.withLockedValue { $0 } }
        set { lastSnapshotBox.withLockedValue { $0 = newValue } }
    }

    public init(extendedTypesEnabled: Bool) {
        tree = DataTree(extendedTypesEnabled: extendedTypesEnabled)
    }

    /// Installs the tree recovery built (before the server takes requests).
    public func replace(with newTree: DataTree) {
        lock.withLock {
            tree = newTree
            // A replaced history is no base for a DIFF.
            committedLog?.clear()
        }
    }

    /// Keeps the last `capacity` applied txns from now on (ensemble members).
    public func enableCommittedLog(capacity: Int, filledWith proposals: [CommittedLog.Proposal]) {
        lock.withLock {
            var log = CommittedLog(capacity: capacity)
            for p in proposals where p.zxid <= tree.lastProcessedZxid { log.add(p) }
            committedLog = log
        }
    }

    /// Applies a committed txn to the tree and the session table (and
    /// records it in the committed log).
    public func applyTxn(_ hdr: TxnHeader, _ txn: Txn, digest: TxnDigest?) -> ProcessTxnResult {
        switch txn {
        case .createSession(let timeout): sessions.withLockedValue { $0[hdr.clientId] = timeout }
        case .closeSession: sessions.withLockedValue { $0[hdr.clientId] = nil }
        default: break
        }
        return lock.withLock {
            let rc = tree.processTxn(hdr, txn, digest: digest)
            if committedLog != nil {
                committedLog!.add(.init(zxid: hdr.zxid, payload: Array(TxnLogFormat.payload(hdr, txn, digest: digest).readableBytesView)))
            }
            return rc
        }
    }

    /// The committed log and the last applied zxid, taken together.
    public func committedState() -> (proposals: [CommittedLog.Proposal], lastProcessedZxid: Int64) {
        lock.withLock { (committedLog?.proposals ?? [], tree.lastProcessedZxid) }
    }

    public func withTree<T, E: Error>(_ body: (DataTree) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(tree)
    }

    /// The committed sessions in id order, as a snapshot lists them.
    public func sortedSessions() -> [(id: Int64, timeout: Int32)] {
        sessions.withLockedValue { s in s.keys.sorted().map { ($0, s[$0]!) } }
    }

    public var lastProcessedZxid: Int64 { withTree { $0.lastProcessedZxid } }
    public var nodeCount: Int { withTree { $0.nodeCount } }
}
