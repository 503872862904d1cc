// The leader's server (LeaderZooKeeperServer): Prep -> Proposal -> Commit ->
// ToBeApplied -> Final, with Proposal -> Sync -> Ack. It owns the global
// sessions and expires them; learners' clients reach it through REQUEST.
import NIOConcurrencyHelpers
import ZKJute
import ZKPersistence
import ZKServer

public final class LeaderZooKeeperServer: ZooKeeperServer, @unchecked Sendable {
    private let myid: Int64
    let leader: Leader
    private let commitBox = NIOLockedValueBox<CommitProcessor?>(nil)
    private let syncBox = NIOLockedValueBox<SyncRequestProcessor?>(nil)

    init(config: ServerConfig, zkDb: ZKDatabase, snapLog: FileTxnSnapLog, myid: Int64, leader: Leader) {
        self.myid = myid
        self.leader = leader
        super.init(config: config, zkDb: zkDb, snapLog: snapLog)
    }

    public override var serverId: Int64 { myid }
    public override var serverState: String { "leader" }
    /// The leader's own clients are one owner; each learner's handler is another.
    public override var localOwner: ObjectIdentifier? { ObjectIdentifier(self) }

    var commitProcessor: CommitProcessor? { commitBox.withLockedValue { $0 } }

    public override func setupRequestProcessors() -> any RequestProcessor {
        let final = FinalRequestProcessor(zks: self)
        let toBeApplied = ToBeAppliedRequestProcessor(next: final, leader: leader)
        // A sync from a learner needs nothing here: the leader answers it with SYNC.
        let commit = CommitProcessor(next: toBeApplied) { r in
            r.hdr != nil || (r.type == OpCode.sync.rawValue && r.cnxn != nil)
        }
        commitBox.withLockedValue { $0 = commit }
        let sync = SyncRequestProcessor(zks: self, next: AckRequestProcessor(leader: leader), txnLog: makeTxnLog())
        syncBox.withLockedValue { $0 = sync }
        let proposal = ProposalRequestProcessor(next: commit, sync: sync, leader: leader, localOwner: localOwner)
        let prep = PrepRequestProcessor(zks: self, next: proposal)
        commit.start()
        sync.start()
        prep.start()
        return prep
    }

    /// SyncThread logs and acks proposals beside the client chain.
    public override var sideChains: [any RequestProcessor] { syncBox.withLockedValue { $0.map { [$0] } ?? [] } }

    public override var quorumInfo: QuorumAdminInfo? {
        leader.peer.adminInfo(leader: leader.peer.me, isLeader: true, observers: leader.syncedObservers)
    }

    public override var proposalSizes: BufferStats? { leader.proposalSizeStats }

    public override func monitorLines() -> [(String, String)] { leader.monitorLines() }
}
