// The last committed proposals every quorum member keeps in memory
// (ZKDatabase.committedLog, zookeeper.commitLogCount, default 500): a leader
// sends a learner that is only a little behind these instead of a snapshot.
// Filled as txns are applied, including while replaying the log at start-up.

public struct CommittedLog: Sendable {
    public struct Proposal: Sendable, Equatable {
        public var zxid: Int64
        /// TxnHeader + txn [+ TxnDigest], as PROPOSAL carries it.
        public var payload: [UInt8]
        public init(zxid: Int64, payload: [UInt8]) { self.zxid = zxid; self.payload = payload }
    }

    public let capacity: Int
    private var ring: [Proposal] = []
    private var head = 0

    public init(capacity: Int = 500) { self.capacity = max(capacity, 1) }

    public var isEmpty: Bool { ring.isEmpty }
    public var count: Int { ring.count }
    public var minZxid: Int64? { ring.isEmpty ? nil : ring[head].zxid }
    public var maxZxid: Int64? { ring.isEmpty ? nil : ring[(head + ring.count - 1) % ring.count].zxid }

    /// Appends a committed proposal; past capacity + 1 the oldest goes
    /// (Apache trims when the log is over its count, then adds).
    public mutating func add(_ p: Proposal) {
        // Growing, head stays 0; once full, the ring turns over.
        if ring.count < capacity + 1 {
            ring.append(p)
            return
        }
        ring[head] = p
        head = (head + 1) % ring.count
    }

    /// Oldest first.
    public var proposals: [Proposal] {
        Array(ring[head...] + ring[..<head])
    }

    public mutating func clear() {
        ring.removeAll()
        head = 0
    }
}
