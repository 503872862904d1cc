// Deletes empty containers and expired TTL nodes every
// znode.container.checkIntervalMs, at most znode.container.maxPerMinute per
// minute, by submitting deleteContainer requests (ContainerManager in Apache).
import Foundation
import NIOCore

final class ContainerManager: @unchecked Sendable {
    private let zks: ZooKeeperServer
    // guarded by `cond`
    private let cond = NSCondition()
    private var running = true

    init(zks: ZooKeeperServer) { self.zks = zks }

    func start() {
        ZKThread.start(name: "ContainerManage") { [self] in run() }
    }

    func shutdown() {
        cond.lock(); running = false; cond.broadcast(); cond.unlock()
    }

    private func sleep(ms: Int) -> Bool {
        cond.lock(); defer { cond.unlock() }
        if running { _ = cond.wait(until: Date(timeIntervalSinceNow: Double(ms) / 1000)) }
        return running
    }

    private func run() {
        let minIntervalMs = max(0, 60000 / zks.config.containerMaxPerMinute)
        while sleep(ms: zks.config.containerCheckIntervalMs) {
            let now = Clock.wallMillis()
            let candidates = zks.zkDb.withTree {
                $0.reapCandidates(now: now, maxNeverUsedIntervalMs: Int64(zks.config.containerMaxNeverUsedIntervalMs))
            }
            for path in candidates {
                let started = Clock.monotonicMillis()
                var body = ByteBuffer()
                body.writeString(path)
                zks.submitInternal(type: .deleteContainer, body: body)
                let elapsed = Int(Clock.monotonicMillis() - started)
                if minIntervalMs > elapsed, !sleep(ms: minIntervalMs - elapsed) { return }
            }
        }
    }
}
