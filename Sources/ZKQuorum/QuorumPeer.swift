// One ensemble member (QuorumPeer): recovers the database once, opens the
// client port and the election port, then loops on the `QuorumPeer` thread:
// LOOKING runs an election, LEADING runs a Leader with its
// LearnerCnxAcceptor, FOLLOWING and OBSERVING run a Learner; when a role
// ends, the peer looks for a leader again.
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import ZKJute
import ZKPersistence
import ZKServer

public final class QuorumPeer: @unchecked Sendable {
    public let config: QuorumPeerConfig
    public let zkDb: ZKDatabase
    private var snapLog: FileTxnSnapLog!
    private var epochFiles: EpochFiles!
    public private(set) var factory: NIOServerCnxnFactory!
    private var manager: QuorumCnxManager!
    private var election: FastLeaderElection!
    private let logger: Logger

    private struct State {
        var state = ServerState.looking
        var vote: Vote
        var leader: Leader?
        var learner: Learner?
        /// The role's server once it serves clients.
        var serving: ZooKeeperServer?
        var status = "LOOKING"
        var stopping = false
    }
    private let state: NIOLockedValueBox<State>
    /// Told about every change of role, for readiness and status reporting.
    private let onStateChange: @Sendable (_ status: String, _ serving: Bool) -> Void
    /// Signalled when the QuorumPeer thread has ended its role and exits.
    private let finished = DispatchSemaphore(value: 0)

    public init(config: QuorumPeerConfig, onStateChange: @escaping @Sendable (String, Bool) -> Void = { _, _ in }) {
        self.config = config
        zkDb = ZKDatabase(extendedTypesEnabled: config.server.extendedTypesEnabled)
        state = NIOLockedValueBox(State(vote: Vote(leader: config.myid, zxid: 0, electionEpoch: 0, peerEpoch: 0)))
        self.onStateChange = onStateChange
        var logger = Logger(label: "zkswiftd.QuorumPeer")
        logger[metadataKey: "myid"] = "\(config.myid)"
        self.logger = logger
    }

    /// Recovers the data and checks the epoch files; throws what must stop the daemon.
    public func loadDataBase() throws {
        snapLog = try Self.reload(zkDb, config: config)
        // As at a standalone start: recovery must always find a snapshot under the logs.
        try ZooKeeperServer.writeSnapshot(db: zkDb, to: snapLog, config: config.server, fsync: config.server.forceSync)
        epochFiles = EpochFiles(snapDir: snapLog.snapDir)
        let (accepted, current) = try epochFiles.loadOrCreate(dataEpoch: Zxid.epoch(zkDb.lastProcessedZxid))
        logger.info("acceptedEpoch \(accepted), currentEpoch \(current), last zxid 0x\(String(zkDb.lastProcessedZxid, radix: 16))")
    }

    /// Recovers `db` from disk and fills its committed log with the newest
    /// replayed txns, so a leader can DIFF learners that are a little behind.
    @discardableResult
    static func reload(_ db: ZKDatabase, config: QuorumPeerConfig) throws -> FileTxnSnapLog {
        let (snapLog, snapshotZxid) = try ZooKeeperServer.recover(config: config.server, into: db)
        let replayed = try snapLog.proposals(from: snapshotZxid + 1, sizeLimit: 0,
                                             maxRecordBytes: config.server.juteMaxBuffer * 2 + 1024) ?? []
        db.enableCommittedLog(capacity: config.commitLogCount,
                              filledWith: replayed.suffix(config.commitLogCount + 1).map { .init(zxid: $0.zxid, payload: $0.payload) })
        return snapLog
    }

    /// Opens the client port (answering only four-letter words until a role
    /// starts) and the election port, then starts the QuorumPeer thread.
    public func start(clientHost: String, clientPort: Int) throws {
        let f = NIOServerCnxnFactory(config: config.server)
        try f.start(host: clientHost, port: clientPort)
        factory = f
        let me = config.me
        manager = QuorumCnxManager(myid: config.myid, view: config.view.members, listenOnAllIPs: config.quorumListenOnAllIPs,
                                   cnxTimeoutMs: config.cnxTimeoutMs,
                                   socketTimeoutMs: config.server.tickTime * config.syncLimit,
                                   portBindRetry: config.electionPortBindRetry,
                                   bindErrorHandler: { [logger] e in
                                       logger.critical("Cannot open the election port \(me.host):\(me.electionPort): \(e); exiting")
                                       exit(14)
                                   })
        manager.start()
        election = FastLeaderElection(myid: config.myid, config: config.view, manager: manager,
                                      minNotificationIntervalMs: config.minNotificationIntervalMs,
                                      maxNotificationIntervalMs: config.maxNotificationIntervalMs,
                                      peerState: { [state] in state.withLockedValue { ($0.state, $0.vote) } })
        election.start()
        ZKThread.start(name: "QuorumPeer") { [self] in run() }
    }

    public var serverState: ServerState { state.withLockedValue { $0.state } }

    /// The server of the current role while it serves clients; nil while
    /// looking for a leader or syncing with one.
    public var servingServer: ZooKeeperServer? { state.withLockedValue { $0.serving } }

    /// One line for the service manager: `LOOKING`, `FOLLOWING leader=3
    /// zxid=0x200000005` (the zxid synced to), `LEADING epoch=2 followers=2/2`
    /// (followers in sync now, of the other voters).
    public var status: String {
        let (text, leader) = state.withLockedValue { ($0.status, $0.serving != nil ? $0.leader : nil) }
        guard let leader else { return text }
        let (synced, voters) = leader.learnerCounts
        return "LEADING epoch=\(leader.epoch) followers=\(synced - 1)/\(voters - 1)"
    }

    private func changeStatus(_ text: String, serving: ZooKeeperServer?) {
        state.withLockedValue { $0.status = text; $0.serving = serving }
        onStateChange(status, serving != nil)
    }

    private func setState(_ s: ServerState, vote: Vote? = nil) {
        state.withLockedValue {
            $0.state = s
            if let vote { $0.vote = vote }
        }
        logger.info("Peer state changed: \(s)")
    }

    private var stopping: Bool { state.withLockedValue { $0.stopping } }

    private func run() {
        while !stopping {
            fastForward()
            setState(.looking)
            changeStatus("LOOKING", serving: nil)
            let current = ((try? epochFiles.read(EpochFiles.current)) ?? nil) ?? 0
            guard let (vote, outcome) = election.lookForLeader(lastLoggedZxid: zkDb.lastProcessedZxid, currentEpoch: current) else { break }
            if stopping { break }
            switch outcome {
            case .leading:
                setState(.leading, vote: vote)
                lead()
            case .following(let sid):
                setState(.following, vote: vote)
                learn(from: sid, observer: false)
            case .observing(let sid):
                setState(.observing, vote: vote)
                learn(from: sid, observer: true)
            }
        }
        logger.info("QuorumPeer thread exits")
        finished.signal()
    }

    private func lead() {
        let leader = Leader(peer: config, zkDb: zkDb, snapLog: snapLog, factory: factory, epochFiles: epochFiles)
        state.withLockedValue { $0.leader = leader }
        let me = config.me
        do {
            let acceptor = try LearnerCnxAcceptor(host: config.quorumListenOnAllIPs ? nil : me.host, port: me.quorumPort, master: leader)
            acceptor.start()
            defer { acceptor.halt() }
            let accepted = try epochFiles.read(EpochFiles.accepted) ?? 0
            try leader.lead(acceptedEpoch: accepted) { zk in
                changeStatus("LEADING epoch=\(leader.epoch)", serving: zk)
            }
        } catch {
            logger.warning("Leading ended: \(error)")
        }
        state.withLockedValue { $0.serving = nil }
        leader.shutdown()
        state.withLockedValue { $0.leader = nil }
    }

    private func learn(from sid: Int64, observer: Bool) {
        guard let leaderServer = config.view.members[sid] else {
            logger.warning("Couldn't find the leader with id = \(sid)")
            return
        }
        let learner = Learner(peer: config, observer: observer, zkDb: zkDb, snapLog: snapLog, factory: factory, epochFiles: epochFiles)
        state.withLockedValue { $0.learner = learner }
        do {
            try learner.followLeader(leaderServer) { zk in
                changeStatus("\(observer ? "OBSERVING" : "FOLLOWING") leader=\(sid) zxid=0x\(String(zkDb.lastProcessedZxid, radix: 16))", serving: zk)
            }
        } catch {
            logger.warning("Exception when \(observer ? "observing" : "following") the leader: \(error)")
        }
        state.withLockedValue { $0.serving = nil }
        learner.shutdown()
        state.withLockedValue { $0.learner = nil }
    }

    /// After a role ends, the log may hold proposals the tree never applied
    /// (logged, acked, not yet committed): apply them, as Apache's
    /// fastForwardDataBase does, so the vote and the next sync reflect every
    /// txn this server acknowledged. The new leader cuts them (TRUNC) if it
    /// does not have them.
    private func fastForward() {
        guard snapLog != nil else { return }
        do {
            let pending = try snapLog.records(from: zkDb.lastProcessedZxid + 1,
                                              maxRecordBytes: config.server.juteMaxBuffer * 2 + 1024)
            guard !pending.isEmpty else { return }
            for r in pending { _ = zkDb.applyTxn(r.hdr, r.txn, digest: r.digest) }
            logger.info("Database fast-forwarded from the txn log to 0x\(String(zkDb.lastProcessedZxid, radix: 16)) (\(pending.count) txns)")
        } catch {
            logger.critical("Cannot read the txn log in \(snapLog.logDir): \(error); exiting")
            exit(1)
        }
    }

    /// Stops gracefully: new clients are turned away, the role ends on the
    /// QuorumPeer thread (its pipeline drains and the txn log is synced and
    /// closed), then the election and the ports close. Returns false if the
    /// role had not ended within `timeoutSeconds`.
    @discardableResult
    public func shutdown(timeoutSeconds: Double = 10) -> Bool {
        factory?.stopAccepting()
        let (leader, learner) = state.withLockedValue { s -> (Leader?, Learner?) in
            s.stopping = true
            return (s.leader, s.learner)
        }
        leader?.stop("shutdown")
        learner?.shutdown()
        election?.shutdown()
        let ended = factory == nil || finished.wait(timeout: .now() + timeoutSeconds) == .success
        manager?.halt()
        factory?.shutdown()
        return ended
    }
}
