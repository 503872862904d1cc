// Fast Leader Election on its threads (FastLeaderElection with its
// WorkerSender `FLESender` and WorkerReceiver `FLEReceiver`): notifications
// travel through the QuorumCnxManager, the decisions are
// FastLeaderElectionCore's, and time (notification timeouts with back-off,
// finalizeWait) is kept here.
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ZKJute
import ZKServer

public final class FastLeaderElection: @unchecked Sendable {
    /// How long a vote that reached a quorum waits for a better one (finalizeWait).
    public static let finalizeWaitMs = 200

    private let myid: Int64
    private let manager: QuorumCnxManager
    private let minIntervalMs: Int
    private let maxIntervalMs: Int
    /// The peer's state and the vote it settled on last (QuorumPeer.getPeerState/getCurrentVote).
    private let peerState: @Sendable () -> (ServerState, Vote)
    // `lock` guards core and stopped.
    private let lock = NIOLock()
    private var core: FastLeaderElectionCore
    private var stopped = false
    private let recvQueue = CircularBlockingQueue<(sid: Int64, n: ElectionNotification)>(capacity: 1 << 20)
    private let sendQueue = CircularBlockingQueue<(sid: Int64, n: ElectionNotification)>(capacity: 1 << 20)
    private let threads = ThreadTracker()
    private let logger: Logger

    public init(myid: Int64, config: QuorumMaj, manager: QuorumCnxManager,
                minNotificationIntervalMs: Int = 200, maxNotificationIntervalMs: Int = 60_000,
                peerState: @escaping @Sendable () -> (ServerState, Vote)) {
        self.myid = myid
        self.manager = manager
        self.minIntervalMs = minNotificationIntervalMs
        self.maxIntervalMs = maxNotificationIntervalMs
        self.peerState = peerState
        core = FastLeaderElectionCore(myid: myid, config: config)
        var logger = Logger(label: "zkswiftd.FastLeaderElection")
        logger[metadataKey: "myid"] = "\(myid)"
        self.logger = logger
    }

    public var logicalclock: Int64 { lock.withLock { core.logicalclock } }

    private var isStopped: Bool { lock.withLock { stopped } }

    public func start() {
        threads.start("FLESender") { [self] in
            while !isStopped {
                guard let m = sendQueue.poll(timeoutMs: 500) else { continue }
                var b = ByteBuffer()
                m.n.write(to: &b)
                manager.toSend(sid: m.sid, b)
            }
        }
        threads.start("FLEReceiver") { [self] in
            while !isStopped {
                guard let m = manager.pollRecvQueue(timeoutMs: 500) else { continue }
                receive(m.message, from: m.sid)
            }
        }
    }

    /// WorkerReceiver: decode, answer at once where FLE answers, and queue
    /// for lookForLeader while LOOKING.
    private func receive(_ message: ByteBuffer, from sid: Int64) {
        let n: ElectionNotification
        do {
            guard let decoded = try ElectionNotification.read(message: message) else { return }
            n = decoded
        } catch {
            logger.warning("Skipping a malformed notification from sid \(sid) (\(message.readableBytes) bytes): \(error)")
            return
        }
        let (state, vote) = peerState()
        let (reply, voter) = lock.withLock { (core.reply(to: n, from: sid, myState: state, currentVote: vote), core.config.isVoter(sid)) }
        if let reply { sendQueue.offer((sid, reply)) }
        if voter && state == .looking { recvQueue.offer((sid, n)) }
    }

    private func sendNotifications() {
        let (n, voters) = lock.withLock { (core.proposalNotification(), core.config.votingMembers.sorted()) }
        for sid in voters { sendQueue.offer((sid, n)) }
    }

    /// Runs one election (lookForLeader). Returns nil when shut down first.
    public func lookForLeader(lastLoggedZxid: Int64, currentEpoch: Int64) -> (vote: Vote, outcome: FastLeaderElectionCore.Outcome)? {
        let proposal = lock.withLock { () -> Vote in
            core.startRound(lastLoggedZxid: lastLoggedZxid, currentEpoch: currentEpoch)
            return core.proposal
        }
        logger.info("New election. My id = \(myid), proposed zxid=0x\(String(proposal.zxid, radix: 16)), round \(proposal.electionEpoch)")
        sendNotifications()
        var timeout = minIntervalMs
        while !isStopped {
            guard let m = recvQueue.poll(timeoutMs: timeout) else {
                // Nothing heard: resend if our messages went out, else (re)connect.
                if manager.haveDelivered() { sendNotifications() } else { manager.connectAll() }
                timeout = min(timeout * 2, maxIntervalMs)
                logger.info("Notification time out: \(timeout) ms")
                continue
            }
            let step = lock.withLock { core.receive(m.n, from: m.sid) }
            if step.broadcast { sendNotifications() }
            if let d = step.decided { return leave(d) }
            guard step.quorumReached else { continue }
            // Wait a little for a better vote before settling.
            var better: (sid: Int64, n: ElectionNotification)? = nil
            while let next = recvQueue.poll(timeoutMs: Self.finalizeWaitMs) {
                if lock.withLock({ core.beatsProposal(next.n) }) { better = next; break }
            }
            if let better {
                recvQueue.offer(better)
                continue
            }
            return leave(lock.withLock { core.decide() })
        }
        return nil
    }

    private func leave(_ d: (vote: Vote, outcome: FastLeaderElectionCore.Outcome)) -> (vote: Vote, outcome: FastLeaderElectionCore.Outcome) {
        logger.info("Election round \(d.vote.electionEpoch) decided: \(d.outcome), vote \(d.vote)")
        while recvQueue.poll(timeoutMs: 0) != nil {}
        return d
    }

    /// Stops the worker threads and any election in progress.
    public func shutdown() {
        lock.withLock { stopped = true }
        recvQueue.wakeAll()
        sendQueue.wakeAll()
        // The receiver may sit in the manager's poll for up to half a second.
        let left = threads.waitForAll(timeoutMs: 5000)
        if !left.isEmpty { logger.warning("Election threads still running after shutdown: \(left)") }
    }
}
