// Last stage: applies the txn to the tree (firing watches), serves reads, and
// sends each reply (FinalRequestProcessor in Apache ZooKeeper). Runs on the
// thread of the stage before it.
import Logging
import NIOCore
import ZKData
import ZKJute

public final class FinalRequestProcessor: RequestProcessor, @unchecked Sendable {
    private let zks: ZooKeeperServer
    private let logger = Logger(label: "zkswiftd.FinalRequestProcessor")

    public init(zks: ZooKeeperServer) { self.zks = zks }

    public func shutdown() {}

    public func processRequest(_ r: Request) {
        let rc = applyRequest(r)
        r.probeDone?()
        guard let cnxn = r.cnxn else { return }
        zks.requestFinished()
        let result = reply(r, rc, cnxn)
        zks.serverStats.updateLatency(Clock.monotonicMillis() - r.createTime)
        cnxn.updateStatsForResponse(cxid: r.cxid, zxid: result.zxid, op: result.op, start: r.createTime)
        if r.type == OpCode.closeSession.rawValue { cnxn.close(reason: "closeSession") }
    }

    private func applyRequest(_ r: Request) -> ProcessTxnResult? {
        if r.type == OpCode.createSession.rawValue, case .createSession(let t)? = r.txn {
            zks.sessionCommitted(r.sessionId, timeout: t)
        } else if r.type == OpCode.closeSession.rawValue {
            zks.sessionRemoved(r.sessionId)
        }
        guard let hdr = r.hdr, let txn = r.txn else { return nil }
        let rc = zks.zkDb.applyTxn(hdr, txn, digest: r.txnDigest)
        if let m = rc.digestMismatch {
            // Only counted by Apache; the tree stays authoritative.
            logger.warning("Digest mismatch at zxid 0x\(String(hdr.zxid, radix: 16)) (type \(hdr.type)): the txn carried \(m.expected), the tree has \(m.actual)")
        }
        zks.outstandingChanges.applied(zxid: hdr.zxid)
        if r.type == OpCode.closeSession.rawValue && r.cnxn == nil {
            zks.closeConnection(sessionId: r.sessionId)
        }
        return rc
    }

    private struct Sent { var zxid: Int64; var op: String }

    private func reply(_ r: Request, _ rc: ProcessTxnResult?, _ cnxn: ServerCnxn) -> Sent {
        let lastZxid = zks.zkDb.lastProcessedZxid
        var op = "NA"
        var err: KeeperCode = .ok
        var body: (any JuteRecord)? = nil
        do {
            if let hdr = r.hdr, hdr.type == OpCode.error.rawValue {
                if let e = r.exception { throw e }
                if case .error(let code)? = r.txn { throw KeeperCode(rawValue: code) ?? .systemError }
            }
            if let e = r.exception, r.type != OpCode.multi.rawValue { throw e }
            var req = r.body
            // What applying the txn gave, for the writes that report it.
            let txnErr = KeeperCode(rawValue: rc?.err ?? 0) ?? .systemError
            switch OpCode(rawValue: r.type) {
            case .ping:
                cnxn.sendResponse(ReplyHeader(xid: SpecialXid.ping, zxid: lastZxid, err: 0), nil)
                return Sent(zxid: lastZxid, op: "PING")
            case .createSession:
                zks.finishSessionInit(cnxn, valid: true)
                return Sent(zxid: lastZxid, op: "SESS")
            case .multi:
                op = "MULT"
                body = MultiResponse(results: (rc?.multiResult ?? []).map(Self.opResult))
            case .multiRead:
                op = "MLTR"
                let m = try MultiRequest(from: &req)
                if m.ops.contains(where: { !$0.isRead }) { throw JuteError.invalid("write op in multiRead") }
                body = MultiResponse(results: m.ops.map { o in
                    do {
                        switch o {
                        case .getData(let p):
                            let (d, s) = try getData(p, watch: false, r, cnxn)
                            return .getData(data: d, stat: s)
                        case .getChildren(let p):
                            return .getChildren(try getChildren(p, watch: false, r, cnxn).0)
                        default: return .error(KeeperCode.marshallingError.rawValue)
                        }
                    } catch let e as KeeperCode { return .error(e.rawValue) } catch { return .error(KeeperCode.marshallingError.rawValue) }
                })
            case .create:
                op = "CREA"
                err = txnErr
                body = CreateResponse(path: rc?.path ?? "")
            case .create2, .createTTL, .createContainer:
                op = "CREA"
                err = txnErr
                body = Create2Response(path: rc?.path ?? "", stat: rc?.stat ?? Stat())
            case .delete, .deleteContainer:
                op = "DELE"
                err = txnErr
            case .setData:
                op = "SETD"
                err = txnErr
                body = SetDataResponse(stat: rc?.stat ?? Stat())
            case .setACL:
                op = "SETA"
                err = txnErr
                body = SetACLResponse(stat: rc?.stat ?? Stat())
            case .closeSession:
                op = "CLOS"
                err = txnErr
            case .sync:
                op = "SYNC"
                body = SyncResponse(path: try SyncRequest(from: &req).path)
            case .exists:
                op = "EXIS"
                let e = try ExistsRequest(from: &req)
                if e.path.contains("\0") { throw KeeperCode.badArguments }
                // From 3.8.4 (ZOOKEEPER-2590) exists needs READ on a node that exists.
                let stat = try zks.zkDb.withTree { t throws(KeeperCode) in
                    if let n = t.getNode(e.path) { try checkACL(r, t.acl(of: n), Perms.read) }
                    return try t.statNode(e.path, watcher: e.watch ? cnxn : nil)
                }
                body = ExistsResponse(stat: stat)
            case .getData:
                op = "GETD"
                let g = try GetDataRequest(from: &req)
                let (d, s) = try getData(g.path, watch: g.watch, r, cnxn)
                body = GetDataResponse(data: d, stat: s)
            case .setWatches:
                op = "SETW"
                let s = try SetWatches(from: &req)
                zks.zkDb.withTree {
                    $0.setWatches(relativeZxid: s.relativeZxid, dataWatches: s.dataWatches, existWatches: s.existWatches,
                                  childWatches: s.childWatches, persistentWatches: [], persistentRecursiveWatches: [], watcher: cnxn)
                }
            case .setWatches2:
                op = "STW2"
                let s = try SetWatches2(from: &req)
                zks.zkDb.withTree {
                    $0.setWatches(relativeZxid: s.relativeZxid, dataWatches: s.dataWatches, existWatches: s.existWatches,
                                  childWatches: s.childWatches, persistentWatches: s.persistentWatches,
                                  persistentRecursiveWatches: s.persistentRecursiveWatches, watcher: cnxn)
                }
            case .addWatch:
                op = "ADDW"
                let a = try AddWatchRequest(from: &req)
                guard let mode = AddWatchMode(rawValue: a.type) else { throw JuteError.invalid("unsupported watcher mode \(a.type)") }
                zks.zkDb.withTree { $0.addWatch(a.path, watcher: cnxn, mode: mode) }
                body = ErrorResponse(err: 0)
            case .getACL:
                op = "GETA"
                let g = try GetACLRequest(from: &req)
                body = try zks.zkDb.withTree { t throws(KeeperCode) -> GetACLResponse in
                    guard let n = t.getNode(g.path) else { throw .noNode }
                    let acl = t.acl(of: n)
                    try checkACL(r, acl, Perms.read | Perms.admin)
                    if AuthScheme.checkACL(acl, perm: Perms.admin, ids: r.authInfo, skipACL: zks.config.skipACL) {
                        return GetACLResponse(acl: acl, stat: t.stat(of: n))
                    }
                    // Without ADMIN, digest ids are shown without their hash.
                    let masked = acl.map { a -> ACL in
                        guard a.id.scheme == "digest" else { return a }
                        let user = a.id.id.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                        return ACL(perms: a.perms, id: Id(scheme: "digest", id: a.id.id.contains(":") ? user + ":x" : a.id.id))
                    }
                    return GetACLResponse(acl: masked, stat: t.stat(of: n))
                }
            case .getChildren:
                op = "GETC"
                let g = try GetChildrenRequest(from: &req)
                body = GetChildrenResponse(children: try getChildren(g.path, watch: g.watch, r, cnxn).0)
            case .getChildren2:
                op = "GETC"
                let g = try GetChildren2Request(from: &req)
                let (c, s) = try getChildren(g.path, watch: g.watch, r, cnxn)
                body = GetChildren2Response(children: c, stat: s)
            case .getAllChildrenNumber:
                op = "GETACN"
                let g = try GetAllChildrenNumberRequest(from: &req)
                let n = try zks.zkDb.withTree { t throws(KeeperCode) -> Int in
                    guard let node = t.getNode(g.path) else { throw .noNode }
                    try checkACL(r, t.acl(of: node), Perms.read)
                    return t.getAllChildrenNumber(g.path)
                }
                body = GetAllChildrenNumberResponse(totalNumber: Int32(truncatingIfNeeded: n))
            case .checkWatches:
                op = "CHKW"
                let c = try CheckWatchesRequest(from: &req)
                guard let type = WatcherType(rawValue: c.type) else { throw JuteError.invalid("bad watcher type \(c.type)") }
                if !zks.zkDb.withTree({ $0.containsWatcher(c.path, type: type, watcher: cnxn) }) { throw KeeperCode.noWatcher }
            case .removeWatches:
                op = "REMW"
                let c = try RemoveWatchesRequest(from: &req)
                guard let type = WatcherType(rawValue: c.type) else { throw JuteError.invalid("bad watcher type \(c.type)") }
                if !zks.zkDb.withTree({ $0.removeWatch(c.path, type: type, watcher: cnxn) }) { throw KeeperCode.noWatcher }
            case .whoAmI:
                op = "HOMI"
                body = WhoAmIResponse(clientInfo: r.authInfo.map {
                    ClientInfo(authScheme: $0.scheme, user: AuthScheme.userName(scheme: $0.scheme, id: $0.id))
                })
            case .getEphemerals:
                op = "GETE"
                let g = try GetEphemeralsRequest(from: &req)
                let all = zks.zkDb.withTree { $0.getEphemerals(r.sessionId) }
                let prefix = g.prefixPath?.trimmingCharacters(in: .whitespaces) ?? ""
                let list = (prefix.isEmpty || prefix == "/") ? Array(all) : all.filter { $0.hasPrefix(g.prefixPath!) }
                body = GetEphemeralsResponse(ephemerals: list.sorted())
            default:
                break
            }
        } catch let e as KeeperCode {
            err = e
        } catch {
            logger.warning("Failed to process request type \(r.type) from \(cnxn.remoteDescription): \(error)")
            err = .marshallingError
        }
        let hdr = ReplyHeader(xid: r.cxid, zxid: lastZxid, err: err.rawValue)
        cnxn.sendResponse(hdr, err == .ok ? body : nil)
        return Sent(zxid: lastZxid, op: op)
    }

    private func checkACL(_ r: Request, _ acl: [ACL], _ perm: Int32) throws(KeeperCode) {
        guard AuthScheme.checkACL(acl, perm: perm, ids: r.authInfo, skipACL: zks.config.skipACL) else { throw .noAuth }
    }

    private func getData(_ path: String, watch: Bool, _ r: Request, _ cnxn: ServerCnxn) throws(KeeperCode) -> ([UInt8]?, Stat) {
        try zks.zkDb.withTree { t throws(KeeperCode) in
            guard let n = t.getNode(path) else { throw .noNode }
            try checkACL(r, t.acl(of: n), Perms.read)
            return try t.getData(path, watcher: watch ? cnxn : nil)
        }
    }

    private func getChildren(_ path: String, watch: Bool, _ r: Request, _ cnxn: ServerCnxn) throws(KeeperCode) -> ([String], Stat) {
        try zks.zkDb.withTree { t throws(KeeperCode) in
            guard let n = t.getNode(path) else { throw .noNode }
            try checkACL(r, t.acl(of: n), Perms.read)
            return try t.getChildren(path, watcher: watch ? cnxn : nil)
        }
    }

    static func opResult(_ rc: ProcessTxnResult) -> OpResult {
        switch OpCode(rawValue: rc.type) {
        case .check: .check
        case .create: .create(path: rc.path ?? "")
        case .create2, .createTTL, .createContainer: .create2(path: rc.path ?? "", stat: rc.stat ?? Stat())
        case .delete, .deleteContainer: .delete
        case .setData: .setData(rc.stat ?? Stat())
        default: .error(rc.err)
        }
    }
}
