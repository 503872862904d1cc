// Writes prepared but not yet applied: PrepRequestProcessor validates each new
// request against these first, then against the tree, so pipelined writes see
// each other (outstandingChanges in Apache ZooKeeper). Final drops them once
// their zxid is applied.
import NIOConcurrencyHelpers
import ZKJute

public final class ChangeRecord {
    public let zxid: Int64
    public let path: String
    /// nil: the node is being deleted.
    public var stat: StatPersisted?
    public var childCount: Int
    public var acl: [ACL]
    public var data: [UInt8]?
    /// This node's digest as the change leaves it (0 once deleted), and the
    /// whole tree's digest once this change and those before it are applied.
    public var nodeDigest: Int64 = 0
    public var treeDigest: Int64 = 0

    init(zxid: Int64, path: String, stat: StatPersisted?, childCount: Int, acl: [ACL], data: [UInt8]? = nil) {
        self.zxid = zxid; self.path = path; self.stat = stat; self.childCount = childCount; self.acl = acl; self.data = data
    }

    func duplicate(zxid: Int64) -> ChangeRecord {
        let c = ChangeRecord(zxid: zxid, path: path, stat: stat, childCount: childCount, acl: acl, data: data)
        c.nodeDigest = nodeDigest
        c.treeDigest = treeDigest
        return c
    }
}

public final class OutstandingChanges: @unchecked Sendable {
    // all state guarded by `lock`; ChangeRecords are only touched under it
    private let lock = NIOLock()
    private var queue: [ChangeRecord] = []
    private var head = 0
    private var forPath: [String: ChangeRecord] = [:]

    public init() {}

    public func withLock<T>(_ body: () throws -> T) rethrows -> T { try lock.withLock(body) }

    /// Caller holds the lock (inside withLock).
    func lockedGet(_ path: String) -> ChangeRecord? { forPath[path] }

    func lockedAdd(_ c: ChangeRecord) {
        queue.append(c)
        forPath[c.path] = c
    }

    func lockedAll() -> ArraySlice<ChangeRecord> { queue[head...] }

    func lockedLast() -> ChangeRecord? { queue.count > head ? queue.last : nil }

    /// Drops records up to the applied zxid.
    public func applied(zxid: Int64) {
        lock.withLock {
            while head < queue.count, queue[head].zxid <= zxid {
                let cr = queue[head]
                if forPath[cr.path] === cr { forPath[cr.path] = nil }
                head += 1
            }
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
        }
    }

    /// Restores the given snapshot of per-path records after a failed multi,
    /// removing what the multi added (PrepRequestProcessor.rollbackPendingChanges).
    func lockedRollback(zxid: Int64, pending: [String: ChangeRecord]) {
        while queue.count > head, let last = queue.last, last.zxid == zxid {
            queue.removeLast()
            forPath[last.path] = nil
        }
        if queue.count == head {
            queue.removeAll(); head = 0
            return
        }
        let firstZxid = queue[head].zxid
        for (path, c) in pending where c.zxid >= firstZxid {
            forPath[path] = c
        }
    }

    public var count: Int { lock.withLock { queue.count - head } }
}
