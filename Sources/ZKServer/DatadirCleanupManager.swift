// autopurge: every autopurge.purgeInterval hours, starting once the data is
// loaded, removes snapshots beyond the newest autopurge.snapRetainCount and
// the logs only they needed (DatadirCleanupManager + PurgeTask in Apache).
// Purging never touches what recovery needs, so a failure is only logged.
import Foundation
import Logging
import ZKPersistence

public final class DatadirCleanupManager: @unchecked Sendable {
    private let snapDir: String
    private let logDir: String
    private let retain: Int
    private let intervalHours: Int
    private let logger = Logger(label: "zkswiftd.DatadirCleanupManager")
    // guarded by `cond`
    private let cond = NSCondition()
    private var running = true

    public init(snapDir: String, logDir: String, retainCount: Int, intervalHours: Int) {
        self.snapDir = snapDir
        self.logDir = logDir
        self.intervalHours = intervalHours
        if retainCount < PurgeTxnLog.minimumRetain {
            logger.warning("Invalid autopurge.snapRetainCount: \(retainCount). Defaulting to \(PurgeTxnLog.minimumRetain)")
        }
        self.retain = max(retainCount, PurgeTxnLog.minimumRetain)
    }

    public func start() {
        logger.info("autopurge.snapRetainCount set to \(retain), autopurge.purgeInterval set to \(intervalHours)")
        guard intervalHours > 0 else {
            logger.info("Purge task is not scheduled.")
            return
        }
        ZKThread.start(name: "PurgeTask") { [self] in
            repeat { purge() } while sleep(seconds: Double(intervalHours) * 3600)
        }
    }

    public func shutdown() {
        cond.lock(); running = false; cond.broadcast(); cond.unlock()
    }

    private func sleep(seconds: Double) -> Bool {
        cond.lock(); defer { cond.unlock() }
        let until = Date(timeIntervalSinceNow: seconds)
        while running, cond.wait(until: until) {}
        return running
    }

    func purge() {
        logger.info("Purge task started.")
        let (plan, victims) = PurgeTxnLog.plan(snapDir: snapDir, logDir: logDir, retain: retain)
        var removed = 0
        for path in victims {
            do {
                try FileManager.default.removeItem(atPath: path)
                removed += 1
            } catch {
                logger.warning("Purge task cannot remove \(path): \(error.localizedDescription)")
            }
        }
        let kept = plan.retained.joined(separator: " ")
        logger.info("Purge task completed: removed \(removed) of \(victims.count) old files, kept \(kept.isEmpty ? "everything (no valid snapshot)" : kept)")
    }
}
