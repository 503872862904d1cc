// First stage (`ProcessThread`): checks the session, validates writes against
// the tree plus the writes still in flight, checks ACLs, assigns the zxid and
// turns each write into its txn (PrepRequestProcessor in Apache ZooKeeper). A
// write that fails validation still takes a zxid, as an error txn.
import Logging
import NIOCore
import ZKData
import ZKJute

public final class PrepRequestProcessor: RequestProcessor, @unchecked Sendable {
    // `zks` and `next` are set once before start; the queue is thread-safe.
    private let zks: ZooKeeperServer
    private let next: any RequestProcessor
    private let queue = RequestQueue<Request>()
    private let logger = Logger(label: "zkswiftd.PrepRequestProcessor")

    public init(zks: ZooKeeperServer, next: any RequestProcessor) {
        self.zks = zks
        self.next = next
    }

    public func start() {
        ZKThread.start(name: "ProcessThread") { [self] in
            while let batch = queue.takeAll() {
                for r in batch { pRequest(r) }
            }
        }
    }

    public func processRequest(_ request: Request) { queue.put(request) }

    public func shutdown() {
        queue.close()
        next.shutdown()
    }

    private var db: ZKDatabase { zks.zkDb }
    private var changes: OutstandingChanges { zks.outstandingChanges }

    func pRequest(_ r: Request) {
        r.hdr = nil
        r.txn = nil
        r.txnDigest = nil
        do {
            switch OpCode(rawValue: r.type) {
            case .create, .create2, .createContainer, .createTTL, .delete, .deleteContainer, .setData, .setACL, .reconfig,
                 .createSession, .closeSession:
                try pRequest2Txn(r.type, zxid: zks.nextZxid(), r, subOp: nil)
            case .multi:
                try prepMulti(r)
            case .sync, .exists, .getData, .getACL, .getChildren, .getAllChildrenNumber, .getChildren2, .ping,
                 .setWatches, .setWatches2, .checkWatches, .removeWatches, .getEphemerals, .multiRead, .addWatch, .whoAmI:
                try zks.sessionTracker.checkSession(r.sessionId, owner: r.owner)
            default:
                logger.warning("unknown type \(r.type)")
            }
            if r.hdr != nil, zks.config.digestEnabled {
                r.txnDigest = TxnDigest(version: DigestCalculator.version, treeDigest: changes.withLock { lockedCurrentDigest() })
            }
        } catch let e as KeeperCode {
            if r.hdr != nil {
                r.hdr!.type = OpCode.error.rawValue
                r.txn = .error(e.rawValue)
            }
            r.exception = e
        } catch {
            logger.warning("Failed to process request type \(r.type) from \(r.cnxn?.remoteDescription ?? "server") session 0x\(String(r.sessionId, radix: 16)): \(error)")
            if r.hdr != nil {
                r.hdr!.type = OpCode.error.rawValue
                r.txn = .error(KeeperCode.marshallingError.rawValue)
            }
        }
        next.processRequest(r)
    }

    // MARK: multi

    private func prepMulti(_ r: Request) throws {
        let zxid = zks.nextZxid()
        let time = Clock.wallMillis()
        r.hdr = TxnHeader(clientId: r.sessionId, cxid: r.cxid, zxid: zxid, time: time, type: r.type)
        var body = r.body
        let multi = try MultiRequest(from: &body)
        if multi.ops.contains(where: { $0.isRead }) { throw JuteError.invalid("read op in multi") }
        // As MultiOperationRecord parses them (3.8.2+): unknown flags, or TTL
        // flags on a create that carries no TTL, fail the whole multi.
        for op in multi.ops {
            guard case .create(let c, _) = op else { continue }
            guard let mode = CreateMode(rawValue: c.flags) else { throw JuteError.invalid("invalid flag \(c.flags) for create mode") }
            if mode.isTTL { throw JuteError.invalid("TTL create mode without a TTL in multi") }
        }
        // Remember each touched path's record so a failure can undo what the multi added.
        let pending: [String: ChangeRecord] = changes.withLock {
            var m: [String: ChangeRecord] = [:]
            for op in multi.ops {
                let p = op.path
                if let c = changes.lockedGet(p) { m[p] = c }
                let parent = PathUtils.parent(of: p)
                if !parent.isEmpty, let c = changes.lockedGet(parent) { m[parent] = c }
            }
            return m
        }
        var txns: [Txn] = []
        var failed: KeeperCode? = nil
        for op in multi.ops {
            if failed != nil {
                txns.append(.error(KeeperCode.runtimeInconsistency.rawValue))
                continue
            }
            do {
                try pRequest2Txn(effectiveType(op), zxid: zxid, r, subOp: op)
                txns.append(r.txn!)
            } catch let e as KeeperCode {
                failed = e
                r.exception = e
                txns.append(.error(e.rawValue))
                changes.withLock { changes.lockedRollback(zxid: zxid, pending: pending) }
            }
        }
        r.txn = .multi(txns)
    }

    /// The opcode a multi sub-create really runs as: TTL and container flags
    /// decide over the sub-header's type (Op.create in Apache 3.8.2+).
    private func effectiveType(_ op: MultiOp) -> Int32 {
        switch op {
        case .create(let c, let opcode):
            let mode = CreateMode(rawValue: c.flags) ?? .persistent
            if mode.isTTL { return OpCode.createTTL.rawValue }
            return mode.isContainer ? OpCode.createContainer.rawValue : opcode
        case .createTTL(let c):
            let mode = CreateMode(rawValue: c.flags) ?? .persistent
            if mode.isTTL { return OpCode.createTTL.rawValue }
            return mode.isContainer ? OpCode.createContainer.rawValue : OpCode.create.rawValue
        default: return op.opcode
        }
    }

    // MARK: one write

    private func getRecordForPath(_ path: String) throws(KeeperCode) -> ChangeRecord {
        guard let rec = changes.withLock({ lockedRecord(path) }), rec.stat != nil else { throw .noNode }
        return rec
    }

    /// The newest outstanding change of a path, else the node as the tree has it.
    private func lockedRecord(_ path: String) -> ChangeRecord? {
        if let c = changes.lockedGet(path) { return c }
        return db.withTree { t in
            guard let n = t.getNode(path) else { return nil }
            let c = ChangeRecord(zxid: -1, path: path, stat: n.stat, childCount: n.children.count, acl: t.acl(of: n), data: n.data)
            c.nodeDigest = n.digest
            return c
        }
    }

    private func addChangeRecord(_ c: ChangeRecord) { changes.withLock { lockedAdd(c) } }

    /// Adds a change with its precalculated digests: the tree's moves by the
    /// difference between this node's digest before and after it
    /// (PrepRequestProcessor.precalculateDigest). Caller holds the changes lock.
    private func lockedAdd(_ c: ChangeRecord) {
        let before = lockedCurrentDigest()
        let previous = lockedRecord(c.path)?.nodeDigest ?? 0
        c.nodeDigest = c.stat.map { DigestCalculator.nodeDigest(path: c.path, data: c.data, stat: $0) } ?? 0
        c.treeDigest = before &- previous &+ c.nodeDigest
        changes.lockedAdd(c)
    }

    /// The tree digest once every outstanding change is applied. Final applies
    /// a txn before dropping its records, so the two never disagree.
    private func lockedCurrentDigest() -> Int64 {
        changes.lockedLast()?.treeDigest ?? db.withTree { $0.digest }
    }

    private func checkACL(_ r: Request, _ acl: [ACL], _ perm: Int32) throws(KeeperCode) {
        guard AuthScheme.checkACL(acl, perm: perm, ids: r.authInfo, skipACL: zks.config.skipACL) else { throw .noAuth }
    }

    private func validatePath(_ path: String, _ r: Request) throws(KeeperCode) {
        if let reason = PathUtils.invalidReason(path) {
            logger.warning("Invalid path \(path) from \(r.cnxn?.remoteDescription ?? "server") session 0x\(String(r.sessionId, radix: 16)): \(reason)")
            throw .badArguments
        }
    }

    private func parentPathAndValidate(_ path: String) throws(KeeperCode) -> String {
        guard path.contains("/"), !path.contains("\0"), !isSpecialPath(path) else { throw .badArguments }
        return PathUtils.parent(of: path)
    }

    private func isSpecialPath(_ path: String) -> Bool {
        path == "/" || path == DataTree.zookeeperPath || path == DataTree.quotaPath || path == DataTree.configPath
    }

    private static func checkAndIncVersion(_ current: Int32, _ expected: Int32) throws(KeeperCode) -> Int32 {
        if expected != -1 && expected != current { throw .badVersion }
        return current &+ 1
    }

    /// Builds the txn for one write (the request itself, or one op of a multi).
    private func pRequest2Txn(_ type: Int32, zxid: Int64, _ r: Request, subOp: MultiOp?) throws {
        if r.hdr == nil {
            r.hdr = TxnHeader(clientId: r.sessionId, cxid: r.cxid, zxid: zxid, time: Clock.wallMillis(), type: type)
        }
        let time = r.hdr!.time
        var body = r.body
        switch OpCode(rawValue: type) {
        case .create, .create2, .createContainer, .createTTL:
            let req: CreateTTLRequest
            switch subOp {
            case .create(let c, _)?: req = CreateTTLRequest(path: c.path, data: c.data, acl: c.acl, flags: c.flags, ttl: -1)
            case .createTTL(let c)?:
                // A createTTL op without TTL flags is an ordinary create (Op.create).
                let isTTL = CreateMode(rawValue: c.flags)?.isTTL ?? false
                req = isTTL ? c : CreateTTLRequest(path: c.path, data: c.data, acl: c.acl, flags: c.flags, ttl: -1)
            default:
                if type == OpCode.createTTL.rawValue {
                    req = try CreateTTLRequest(from: &body)
                } else {
                    let c = try CreateRequest(from: &body)
                    req = CreateTTLRequest(path: c.path, data: c.data, acl: c.acl, flags: c.flags, ttl: -1)
                }
            }
            try prepCreate(type, zxid: zxid, time: time, r, req)
        case .deleteContainer:
            // Only the server's ContainerManager may send this. Apache reads the
            // path from the whole packet, header included, so a client's request
            // always fails the path check.
            if r.cnxn != nil { throw KeeperCode.badArguments }
            let path = String(decoding: body.readableBytesView, as: UTF8.self)
            let parentPath = try parentPathAndValidate(path)
            let node = try getRecordForPath(path)
            if node.childCount > 0 { throw KeeperCode.notEmpty }
            if case .normal = EphemeralType.of(owner: node.stat!.ephemeralOwner, extendedTypesEnabled: zks.config.extendedTypesEnabled) {
                throw KeeperCode.badVersion
            }
            let parent = try getRecordForPath(parentPath)
            r.txn = .deleteContainer(path: path)
            recordDelete(parent: parent, path: path, zxid: zxid)
        case .delete:
            try zks.sessionTracker.checkSession(r.sessionId, owner: r.owner)
            let req: DeleteRequest
            if case .delete(let d)? = subOp { req = d } else { req = try DeleteRequest(from: &body) }
            let parentPath = try parentPathAndValidate(req.path)
            let parent = try getRecordForPath(parentPath)
            try checkACL(r, parent.acl, Perms.delete)
            let node = try getRecordForPath(req.path)
            _ = try Self.checkAndIncVersion(node.stat!.version, req.version)
            if node.childCount > 0 { throw KeeperCode.notEmpty }
            r.txn = .delete(path: req.path)
            recordDelete(parent: parent, path: req.path, zxid: zxid)
        case .setData:
            try zks.sessionTracker.checkSession(r.sessionId, owner: r.owner)
            let req: SetDataRequest
            if case .setData(let s)? = subOp { req = s } else { req = try SetDataRequest(from: &body) }
            try validatePath(req.path, r)
            let node = try getRecordForPath(req.path)
            try checkACL(r, node.acl, Perms.write)
            let newVersion = try Self.checkAndIncVersion(node.stat!.version, req.version)
            r.txn = .setData(SetDataTxn(path: req.path, data: req.data, version: newVersion))
            let nr = node.duplicate(zxid: zxid)
            nr.stat!.version = newVersion
            nr.stat!.mtime = time
            nr.stat!.mzxid = zxid
            nr.data = req.data
            addChangeRecord(nr)
        case .reconfig:
            // Dynamic reconfiguration is off unless reconfigEnabled, and a standalone
            // server cannot reconfigure at all.
            throw KeeperCode.reconfigDisabled
        case .setACL:
            try zks.sessionTracker.checkSession(r.sessionId, owner: r.owner)
            let req = try SetACLRequest(from: &body)
            try validatePath(req.path, r)
            let acl = try AuthScheme.fixupACL(req.acl, authInfo: r.authInfo)
            let node = try getRecordForPath(req.path)
            try checkACL(r, node.acl, Perms.admin)
            let newVersion = try Self.checkAndIncVersion(node.stat!.aversion, req.version)
            r.txn = .setACL(SetACLTxn(path: req.path, acl: acl, version: newVersion))
            let nr = node.duplicate(zxid: zxid)
            nr.stat!.aversion = newVersion
            addChangeRecord(nr)
        case .createSession:
            let timeout = try body.readJuteInt()
            r.txn = .createSession(timeOut: timeout)
            zks.sessionTracker.trackSession(r.sessionId, timeout: timeout)
            if r.owner != nil { try? zks.sessionTracker.setOwner(r.sessionId, owner: r.owner) }
        case .closeSession:
            // The expiry thread closes sessions it does not own, so no session check.
            let paths: [String] = changes.withLock {
                var es = db.withTree { $0.getEphemerals(r.sessionId) }
                for c in changes.lockedAll() {
                    if c.stat == nil { es.remove(c.path) } else if c.stat!.ephemeralOwner == r.sessionId { es.insert(c.path) }
                }
                for p in es.sorted() {
                    // The parent's pzxid moves with each delete; the digest must see it.
                    let parentPath = PathUtils.parent(of: p)
                    if let parent = lockedRecord(parentPath), parent.stat != nil {
                        let pr = parent.duplicate(zxid: zxid)
                        pr.stat!.pzxid = zxid
                        lockedAdd(pr)
                    }
                    lockedAdd(ChangeRecord(zxid: zxid, path: p, stat: nil, childCount: 0, acl: []))
                }
                return es.sorted()
            }
            r.txn = .closeSession(paths: zks.config.closeSessionTxnEnabled ? paths : nil)
            zks.sessionTracker.setSessionClosing(r.sessionId)
        case .check:
            try zks.sessionTracker.checkSession(r.sessionId, owner: r.owner)
            guard case .check(let req)? = subOp else { throw KeeperCode.unimplemented }
            try validatePath(req.path, r)
            let node = try getRecordForPath(req.path)
            try checkACL(r, node.acl, Perms.read)
            r.txn = .check(path: req.path, version: try Self.checkAndIncVersion(node.stat!.version, req.version))
        default:
            logger.warning("unknown type \(type)")
        }
    }

    private func recordDelete(parent: ChangeRecord, path: String, zxid: Int64) {
        let pr = parent.duplicate(zxid: zxid)
        pr.childCount -= 1
        pr.stat!.pzxid = zxid
        addChangeRecord(pr)
        addChangeRecord(ChangeRecord(zxid: zxid, path: path, stat: nil, childCount: -1, acl: []))
    }

    private func prepCreate(_ type: Int32, zxid: Int64, time: Int64, _ r: Request, _ req: CreateTTLRequest) throws {
        let extended = zks.config.extendedTypesEnabled
        guard let mode = CreateMode(rawValue: req.flags) else { throw KeeperCode.badArguments }
        if mode.isTTL && !extended { throw KeeperCode.unimplemented }
        if mode.isTTL {
            if req.ttl <= 0 || req.ttl > EphemeralType.maxTTL { throw KeeperCode.badArguments }
        } else if req.ttl >= 0 {
            throw KeeperCode.badArguments
        }
        try zks.sessionTracker.checkSession(r.sessionId, owner: r.owner)
        var path = req.path
        guard path.contains("/"), !path.contains("\0") else {
            logger.warning("Invalid path \(path) from \(r.cnxn?.remoteDescription ?? "server") session 0x\(String(r.sessionId, radix: 16))")
            throw KeeperCode.badArguments
        }
        let parentPath = PathUtils.parent(of: path).isEmpty ? "/" : PathUtils.parent(of: path)
        let acl = try AuthScheme.fixupACL(req.acl, authInfo: r.authInfo)
        let parent = try getRecordForPath(parentPath)
        try checkACL(r, parent.acl, Perms.create)
        let parentCVersion = parent.stat!.cversion
        if mode.isSequential { path += Self.sequenceSuffix(parentCVersion) }
        try validatePath(path, r)
        if (try? getRecordForPath(path)) != nil { throw KeeperCode.nodeExists }
        if case .normal = EphemeralType.of(owner: parent.stat!.ephemeralOwner, extendedTypesEnabled: extended) {
            throw KeeperCode.noChildrenForEphemerals
        }
        let newCversion = parentCVersion &+ 1
        switch OpCode(rawValue: type) {
        case .createContainer:
            r.txn = .createContainer(CreateContainerTxn(path: path, data: req.data, acl: acl, parentCVersion: newCversion))
        case .createTTL:
            r.txn = .createTTL(CreateTTLTxn(path: path, data: req.data, acl: acl, parentCVersion: newCversion, ttl: req.ttl))
        case .create2:
            r.txn = .create2(CreateTxn(path: path, data: req.data, acl: acl, ephemeral: mode.isEphemeral, parentCVersion: newCversion))
        default:
            r.txn = .create(CreateTxn(path: path, data: req.data, acl: acl, ephemeral: mode.isEphemeral, parentCVersion: newCversion))
        }
        // The owner the tree will store, which the txn type decides, not the
        // flags: a plain create with the container flag makes no container.
        // (Apache takes the flags here and logs digests its followers reject.)
        var owner: Int64 = 0
        switch r.txn {
        case .createContainer?: owner = EphemeralType.containerOwner
        case .createTTL?: owner = EphemeralType.ttlOwner(req.ttl)
        case .create(let c)?, .create2(let c)?: owner = c.ephemeral ? r.sessionId : 0
        default: break
        }
        var s = StatPersisted()
        s.czxid = zxid; s.mzxid = zxid; s.pzxid = zxid; s.ctime = time; s.mtime = time; s.ephemeralOwner = owner
        let pr = parent.duplicate(zxid: zxid)
        pr.childCount += 1
        pr.stat!.cversion = newCversion
        pr.stat!.pzxid = zxid
        addChangeRecord(pr)
        addChangeRecord(ChangeRecord(zxid: zxid, path: path, stat: s, childCount: 0, acl: acl, data: req.data))
    }

    /// Java's %010d: zero-padded to ten characters, the sign counting as one.
    static func sequenceSuffix(_ v: Int32) -> String {
        let digits = String(v.magnitude)
        if v < 0 { return "-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits }
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }
}
