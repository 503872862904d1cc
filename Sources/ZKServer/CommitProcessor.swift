// The `CommitProcessor` thread of an ensemble member: local requests come in
// from the first stage, committed txns from the leader (or, on the leader,
// from the quorum of acks); CommitQueue decides what goes to the next stage
// and in which order. Final runs on this thread, so txns apply in zxid order.
import Logging
import ZKJute

extension Request: CommitQueueItem {}

public final class CommitProcessor: RequestProcessor, @unchecked Sendable {
    private enum Event {
        case request(Request)
        case commit(Request)
    }

    private let next: any RequestProcessor
    private let needsCommit: @Sendable (Request) -> Bool
    private let queue = RequestQueue<Event>()
    // only touched by the CommitProcessor thread
    private var commitQueue = CommitQueue<Request>()
    private let logger = Logger(label: "zkswiftd.CommitProcessor")

    /// `needsCommit` says which local requests wait for a commit (writes,
    /// session changes, and `sync` where the leader answers it).
    public init(next: any RequestProcessor, needsCommit: @escaping @Sendable (Request) -> Bool) {
        self.next = next
        self.needsCommit = needsCommit
    }

    public func start() {
        ZKThread.start(name: "CommitProcessor") { [self] in
            while let batch = queue.takeAll() {
                for e in batch { handle(e) }
                next.flush()
            }
        }
    }

    private func handle(_ e: Event) {
        switch e {
        case .request(let r):
            for ready in commitQueue.request(r, needsCommit: needsCommit(r)) { next.processRequest(ready) }
        case .commit(let c):
            let (committed, released) = commitQueue.commit(c)
            switch committed {
            case .local(let r):
                if r !== c {
                    r.hdr = c.hdr
                    r.txn = c.txn
                    r.txnDigest = c.txnDigest
                }
                next.processRequest(r)
            case .remote(let r):
                next.processRequest(r)
            }
            for r in released { next.processRequest(r) }
        }
    }

    public func processRequest(_ request: Request) { queue.put(.request(request)) }

    /// A committed txn (or an answered sync), in commit order.
    public func commit(_ request: Request) { queue.put(.commit(request)) }

    public func shutdown() {
        queue.close()
        next.shutdown()
    }
}
