// Second stage (`SyncThread`): in Apache ZooKeeper this appends txns to the log
// and group-commits them with one fsync before passing the batch on. Durable
// storage is not implemented yet, so this stage only keeps the thread boundary
// and the batching: it drains what is queued and hands it on in order.
public final class SyncRequestProcessor: RequestProcessor, @unchecked Sendable {
    // `next` is set once at construction; the queue is thread-safe.
    private let next: any RequestProcessor
    private let queue = RequestQueue<Request>()

    init(next: any RequestProcessor) { self.next = next }

    public func start() {
        ZKThread.start(name: "SyncThread") { [self] in
            while let batch = queue.takeAll() {
                for r in batch { next.processRequest(r) }
                next.flush()
            }
        }
    }

    public func processRequest(_ request: Request) { queue.put(request) }

    public func shutdown() {
        queue.close()
        next.shutdown()
    }
}

extension RequestProcessor {
    /// Called after a batch: stages that buffer output push it out here.
    public func flush() {}
}
