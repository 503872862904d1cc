// Second stage (`SyncThread`): appends each batch's txns to the log and
// group-commits them with one fdatasync before passing the batch on, so no
// reply leaves before its txn is on disk (SyncRequestProcessor in Apache).
// After about snapCount txns it rolls the log and has `SnapshotThread` write a
// snapshot while requests keep flowing.
import Dispatch
import Logging
import NIOConcurrencyHelpers
import ZKPersistence

public final class SyncRequestProcessor: RequestProcessor, @unchecked Sendable {
    // `next`, `zks`, `txnLog` and the counters are touched only by SyncThread
    // (after construction); the queue and `snapshotRunning` are thread-safe.
    private let zks: ZooKeeperServer
    private let next: any RequestProcessor
    private let queue = RequestQueue<Request>()
    private let txnLog: FileTxnLog
    private var txnsSinceSnapshot = 0
    private var randRoll: Int
    private let snapshotRunning = NIOLockedValueBox(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let logger = Logger(label: "zkswiftd.SyncRequestProcessor")

    public init(zks: ZooKeeperServer, next: any RequestProcessor, txnLog: FileTxnLog) {
        self.zks = zks
        self.next = next
        self.txnLog = txnLog
        randRoll = Int.random(in: 0..<max(1, zks.config.snapCount / 2))
    }

    public func start() {
        ZKThread.start(name: "SyncThread") { [self] in
            while let batch = queue.takeAll() {
                logAndSync(batch)
                for r in batch { next.processRequest(r) }
                next.flush()
            }
            txnLog.close()
            stopped.signal()
        }
    }

    private func logAndSync(_ batch: [Request]) {
        var logged = 0
        do {
            for r in batch {
                guard let hdr = r.hdr, let txn = r.txn else { continue }
                try txnLog.append(hdr, txn, digest: r.txnDigest)
                logged += 1
            }
            guard logged > 0 else { return }
            let ms = try txnLog.commit()
            if ms > Int64(zks.config.fsyncWarningThresholdMs) {
                logger.warning("fsync-ing the write ahead log in SyncThread took \(ms)ms which will adversely effect operation latency. File size is \(txnLog.currentSize) bytes. See the ZooKeeper troubleshooting guide")
            }
            txnsSinceSnapshot += logged
            if txnsSinceSnapshot > zks.config.snapCount / 2 + randRoll {
                txnsSinceSnapshot = 0
                randRoll = Int.random(in: 0..<max(1, zks.config.snapCount / 2))
                try txnLog.rollLog()
                startSnapshot()
            }
        } catch {
            // A write we cannot make durable must not be acknowledged: stop.
            zks.fatal("cannot write the transaction log: \(error)")
        }
    }

    private func startSnapshot() {
        let busy = snapshotRunning.withLockedValue { running -> Bool in
            if running { return true }
            running = true
            return false
        }
        if busy {
            logger.warning("Too busy to snap, skipping")
            return
        }
        ZKThread.start(name: "SnapshotThread") { [self] in
            zks.takeSnapshot()
            snapshotRunning.withLockedValue { $0 = false }
        }
    }

    public func processRequest(_ request: Request) { queue.put(request) }

    public func shutdown() {
        queue.close()
        _ = stopped.wait(timeout: .now() + 10)
        next.shutdown()
    }
}

extension RequestProcessor {
    /// Called after a batch: stages that buffer output push it out here.
    public func flush() {}
}
