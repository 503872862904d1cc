// The ordering rule of CommitProcessor, without its thread: a session's
// requests reach Final in the order the client sent them, so a read issued
// after a write waits until that write has committed, while other sessions'
// reads go straight through. Committed txns arrive in zxid order; one that
// matches the write at the head of its session's queue is that client's
// request (it gets the reply), any other came from elsewhere.
public protocol CommitQueueItem: AnyObject {
    var sessionId: Int64 { get }
    var cxid: Int32 { get }
}

public struct CommitQueue<R: CommitQueueItem> {
    /// Per session: the write waiting for its commit, then what queued behind it.
    private var blocked: [Int64: [(request: R, needsCommit: Bool)]] = [:]

    public init() {}

    /// Sessions with a write waiting for its commit.
    public var waitingSessions: Int { blocked.count }

    /// A local request, in arrival order; returns what may go on now.
    public mutating func request(_ r: R, needsCommit: Bool) -> [R] {
        if blocked[r.sessionId] != nil {
            blocked[r.sessionId]!.append((r, needsCommit))
            return []
        }
        if needsCommit {
            blocked[r.sessionId] = [(r, true)]
            return []
        }
        return [r]
    }

    public enum Committed {
        /// The commit answers this local request (copy the txn into it and reply).
        case local(R)
        /// Nobody here waits for it: apply it as it came.
        case remote(R)
    }

    /// A committed request, in commit order. Returns whose it is, and the
    /// requests of that session it released, to go on after it.
    public mutating func commit(_ c: R) -> (committed: Committed, released: [R]) {
        guard var q = blocked[c.sessionId], let head = q.first, head.needsCommit,
              head.request === c || head.request.cxid == c.cxid else {
            return (.remote(c), [])
        }
        q.removeFirst()
        var released: [R] = []
        while let next = q.first, !next.needsCommit {
            released.append(next.request)
            q.removeFirst()
        }
        blocked[c.sessionId] = q.isEmpty ? nil : q
        return (.local(head.request), released)
    }

    /// Everything still waiting, for a shutdown to account for.
    public mutating func drain() -> [R] {
        defer { blocked = [:] }
        return blocked.values.flatMap { $0.map(\.request) }
    }
}
