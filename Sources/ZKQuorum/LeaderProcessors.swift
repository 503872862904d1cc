// The leader's own stages. ProposalRequestProcessor sends each txn to the
// followers and to the local log; AckRequestProcessor counts the leader's
// own ack once the txn is on disk; ToBeAppliedRequestProcessor tells the
// leader a committed txn is in the tree, so a SNAP need not resend it.
import ZKJute
import ZKServer

final class ProposalRequestProcessor: RequestProcessor, @unchecked Sendable {
    private let next: CommitProcessor
    private let sync: SyncRequestProcessor
    private let leader: Leader
    private let localOwner: ObjectIdentifier?

    init(next: CommitProcessor, sync: SyncRequestProcessor, leader: Leader, localOwner: ObjectIdentifier?) {
        self.next = next
        self.sync = sync
        self.leader = leader
        self.localOwner = localOwner
    }

    func processRequest(_ r: Request) {
        // Into the commit queue first: the commit may follow the proposal at once.
        next.processRequest(r)
        if r.type == OpCode.sync.rawValue {
            if r.cnxn != nil {
                leader.processSync(.local(r))
            } else if let owner = r.owner, owner != localOwner {
                leader.processSync(.learner(owner))
            }
            return
        }
        guard r.hdr != nil else { return }
        leader.propose(r)
        sync.processRequest(r)
    }

    func shutdown() {
        sync.shutdown()
        next.shutdown()
    }
}

final class AckRequestProcessor: RequestProcessor, @unchecked Sendable {
    private let leader: Leader

    init(leader: Leader) { self.leader = leader }

    func processRequest(_ r: Request) {
        r.probeDone?()
        guard let hdr = r.hdr else { return }
        leader.processAck(sid: leader.myid, zxid: hdr.zxid)
    }

    func shutdown() {}
}

final class ToBeAppliedRequestProcessor: RequestProcessor, @unchecked Sendable {
    private let next: any RequestProcessor
    private let leader: Leader

    init(next: any RequestProcessor, leader: Leader) {
        self.next = next
        self.leader = leader
    }

    func processRequest(_ r: Request) {
        next.processRequest(r)
        if let hdr = r.hdr { leader.applied(zxid: hdr.zxid) }
    }

    func shutdown() { next.shutdown() }
}
