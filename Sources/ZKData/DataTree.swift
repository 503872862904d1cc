// The in-memory znode tree and the rules that change it: node creation and
// deletion with Stat bookkeeping, watch triggering, ephemeral/container/TTL
// indexes, and applying transactions (DataTree in Apache ZooKeeper). Not
// thread-safe by itself: ZKDatabase serialises access.
import ZKJute

public struct ProcessTxnResult: Sendable {
    public var clientId: Int64
    public var cxid: Int32
    public var zxid: Int64
    public var type: Int32
    public var err: Int32 = 0
    public var path: String? = nil
    public var stat: Stat? = nil
    public var multiResult: [ProcessTxnResult] = []
    /// The tree's digest after applying, when it differs from the one the txn carried.
    public var digestMismatch: (expected: Int64, actual: Int64)? = nil
}

public final class DataTree {
    public let extendedTypesEnabled: Bool
    private(set) var nodes: [String: DataNode] = [:]
    public private(set) var ephemerals: [Int64: Set<String>] = [:]
    public private(set) var containers: Set<String> = []
    public private(set) var ttls: Set<String> = []
    public private(set) var aclCache = ReferenceCountedACLCache()
    public private(set) var dataWatches = WatchManager()
    public private(set) var childWatches = WatchManager()
    public private(set) var lastProcessedZxid: Int64 = 0
    /// Sum of path and data lengths, for mntr's zk_approximate_data_size.
    public private(set) var approximateDataSize: Int = 0
    /// Tree digest (DigestCalculator), kept up to date by every change.
    public private(set) var digest: Int64 = 0
    /// The digest as of the last applied txn: what a snapshot records.
    public private(set) var lastProcessedZxidDigest: (zxid: Int64, digest: Int64)? = nil
    /// Set while replaying after a snapshot whose digest is for a later zxid
    /// than its name: the tree is fuzzy until replay reaches that zxid.
    public private(set) var digestFromLoadedSnapshot: (zxid: Int64, digest: Int64)? = nil
    /// Txns (or snapshots) whose recorded digest differed from the tree's.
    public private(set) var digestMismatches = 0

    public static let zookeeperPath = "/zookeeper"
    public static let quotaPath = "/zookeeper/quota"
    public static let configPath = "/zookeeper/config"

    public init(extendedTypesEnabled: Bool = false) {
        self.extendedTypesEnabled = extendedTypesEnabled
        let open = ReferenceCountedACLCache.openUnsafeKey
        nodes["/"] = DataNode(data: [], acl: open, stat: StatPersisted(), children: ["zookeeper"])
        nodes[Self.zookeeperPath] = DataNode(data: [], acl: open, stat: StatPersisted(), children: ["quota", "config"])
        nodes[Self.quotaPath] = DataNode(data: [], acl: open, stat: StatPersisted())
        var configStat = StatPersisted()
        configStat.aversion = -1
        nodes[Self.configPath] = DataNode(data: [], acl: aclCache.convert(ACL.readACLUnsafe), stat: configStat)
        approximateDataSize = nodes.keys.reduce(0) { $0 + $1.utf8.count }
        digest = nodes.reduce(0) { $0 &+ refreshDigest($1.key, $1.value) }
    }

    /// The digest summed afresh over every node, to check the running one.
    public func recomputedDigest() -> Int64 { nodes.reduce(0) { $0 &+ Self.nodeDigest($1.key, $1.value) } }

    static func nodeDigest(_ path: String, _ n: DataNode) -> Int64 {
        DigestCalculator.nodeDigest(path: path, data: n.data, stat: n.stat)
    }

    /// Computes and keeps a node's digest after it changed.
    private func refreshDigest(_ path: String, _ n: DataNode) -> Int64 {
        n.digest = Self.nodeDigest(path, n)
        return n.digest
    }

    /// Runs a change to one node, moving the tree digest from its old value to its new one.
    private func changing(_ path: String, _ n: DataNode, _ change: () -> Void) {
        digest &-= n.digest
        change()
        digest &+= refreshDigest(path, n)
    }

    // MARK: reads

    /// Apache also keeps the root under the empty path, so "" reads as "/".
    public func getNode(_ path: String) -> DataNode? { nodes[path.isEmpty ? "/" : path] }

    /// Node count as Apache reports it: the root is stored under two names there.
    public var nodeCount: Int { nodes.count + 1 }

    public func acl(of node: DataNode) -> [ACL] { aclCache.acls(for: node.acl) }

    public func stat(of node: DataNode) -> Stat { node.clientStat(extendedTypesEnabled: extendedTypesEnabled) }

    /// exists(): the watch is registered even when the node is missing.
    public func statNode(_ path: String, watcher: (any Watcher)?) throws(KeeperCode) -> Stat {
        if let watcher { dataWatches.addWatch(path, watcher) }
        guard let n = getNode(path) else { throw .noNode }
        return stat(of: n)
    }

    public func getData(_ path: String, watcher: (any Watcher)?) throws(KeeperCode) -> ([UInt8]?, Stat) {
        guard let n = getNode(path) else { throw .noNode }
        if let watcher { dataWatches.addWatch(path, watcher) }
        return (n.data, stat(of: n))
    }

    public func getChildren(_ path: String, watcher: (any Watcher)?) throws(KeeperCode) -> ([String], Stat) {
        guard let n = getNode(path) else { throw .noNode }
        if let watcher { childWatches.addWatch(path, watcher) }
        return (Array(n.children), stat(of: n))
    }

    public func getACL(_ path: String) throws(KeeperCode) -> ([ACL], Stat) {
        guard let n = getNode(path) else { throw .noNode }
        return (acl(of: n), stat(of: n))
    }

    public func getAllChildrenNumber(_ path: String) -> Int {
        if path == "/" { return nodeCount - 2 }
        let prefix = path + "/"
        return nodes.keys.reduce(0) { $0 + ($1.hasPrefix(prefix) ? 1 : 0) }
    }

    public func getEphemerals(_ sessionId: Int64) -> Set<String> { ephemerals[sessionId] ?? [] }

    public var ephemeralCount: Int { ephemerals.values.reduce(0) { $0 + $1.count } }

    // MARK: watches

    public func addWatch(_ path: String, watcher: any Watcher, mode: AddWatchMode) {
        let m: WatcherMode = mode == .persistentRecursive ? .persistentRecursive : .persistent
        dataWatches.addWatch(path, watcher, mode: m)
        childWatches.addWatch(path, watcher, mode: m)
    }

    /// Re-registers a reconnecting client's watches, firing at once what it missed.
    public func setWatches(relativeZxid: Int64, dataWatches dw: [String], existWatches ew: [String], childWatches cw: [String],
                           persistentWatches pw: [String], persistentRecursiveWatches rw: [String], watcher: any Watcher) {
        func fire(_ type: EventType, _ path: String) {
            watcher.process(WatcherEvent(type: type.rawValue, state: KeeperState.syncConnected.rawValue, path: path), acl: nil)
        }
        for path in dw {
            if let n = nodes[path] {
                if n.stat.mzxid > relativeZxid { fire(.nodeDataChanged, path) } else { dataWatches.addWatch(path, watcher) }
            } else { fire(.nodeDeleted, path) }
        }
        for path in ew {
            if nodes[path] != nil { fire(.nodeCreated, path) } else { dataWatches.addWatch(path, watcher) }
        }
        for path in cw {
            if let n = nodes[path] {
                if n.stat.pzxid > relativeZxid { fire(.nodeChildrenChanged, path) } else { childWatches.addWatch(path, watcher) }
            } else { fire(.nodeDeleted, path) }
        }
        for path in pw {
            childWatches.addWatch(path, watcher, mode: .persistent)
            dataWatches.addWatch(path, watcher, mode: .persistent)
        }
        for path in rw {
            childWatches.addWatch(path, watcher, mode: .persistentRecursive)
            dataWatches.addWatch(path, watcher, mode: .persistentRecursive)
        }
    }

    public func containsWatcher(_ path: String, type: WatcherType, watcher: any Watcher) -> Bool {
        switch type {
        case .children: childWatches.containsWatcher(path, watcher)
        case .data: dataWatches.containsWatcher(path, watcher)
        case .any: childWatches.containsWatcher(path, watcher) || dataWatches.containsWatcher(path, watcher)
        }
    }

    public func removeWatch(_ path: String, type: WatcherType, watcher: any Watcher) -> Bool {
        switch type {
        case .children: return childWatches.removeWatcher(path, watcher)
        case .data: return dataWatches.removeWatcher(path, watcher)
        case .any:
            let c = childWatches.removeWatcher(path, watcher)
            let d = dataWatches.removeWatcher(path, watcher)
            return c || d
        }
    }

    public func removeCnxn(_ watcher: any Watcher) {
        dataWatches.removeWatcher(watcher)
        childWatches.removeWatcher(watcher)
    }

    // MARK: changes

    /// parentCVersion -1 means "the parent's current stored cversion + 1".
    public func createNode(_ path: String, data: [UInt8]?, acl: [ACL], ephemeralOwner: Int64,
                           parentCVersion: Int32, zxid: Int64, time: Int64) throws(KeeperCode) -> DataNode {
        let parentName = PathUtils.parent(of: path)
        let childName = PathUtils.name(of: path)
        guard let parent = nodes[parentName] else { throw .noNode }
        if parent.children.contains(childName) { throw .nodeExists }
        var pcv = parentCVersion
        if pcv == -1 { pcv = parent.stat.cversion &+ 1 }
        // A replay after a fuzzy snapshot may carry an older cversion; never go back.
        if pcv > parent.stat.cversion {
            changing(parentName, parent) {
                parent.stat.cversion = pcv
                parent.stat.pzxid = zxid
            }
        }
        var st = StatPersisted()
        st.czxid = zxid; st.mzxid = zxid; st.pzxid = zxid
        st.ctime = time; st.mtime = time
        st.ephemeralOwner = ephemeralOwner
        let child = DataNode(data: data, acl: aclCache.convert(acl), stat: st)
        parent.children.insert(childName)
        nodes[path] = child
        digest &+= refreshDigest(path, child)
        approximateDataSize += path.utf8.count + (data?.count ?? 0)
        switch EphemeralType.of(owner: ephemeralOwner, extendedTypesEnabled: extendedTypesEnabled) {
        case .container: containers.insert(path)
        case .ttl: ttls.insert(path)
        case .normal(let s): ephemerals[s, default: []].insert(path)
        case .void: break
        }
        dataWatches.triggerWatch(path, .nodeCreated, acl: acl)
        childWatches.triggerWatch(parentName, .nodeChildrenChanged, acl: self.acl(of: parent))
        return child
    }

    public func deleteNode(_ path: String, zxid: Int64) throws(KeeperCode) {
        let parentName = PathUtils.parent(of: path)
        guard let parent = nodes[parentName] else { throw .noNode }
        // pzxid moves even if the child is already gone (replay after a fuzzy snapshot).
        parent.children.remove(PathUtils.name(of: path))
        if zxid > parent.stat.pzxid { changing(parentName, parent) { parent.stat.pzxid = zxid } }
        guard let node = nodes.removeValue(forKey: path) else { throw .noNode }
        digest &-= node.digest
        let nodeACL = acl(of: node)
        aclCache.release(node.acl)
        approximateDataSize -= path.utf8.count + (node.data?.count ?? 0)
        switch EphemeralType.of(owner: node.stat.ephemeralOwner, extendedTypesEnabled: extendedTypesEnabled) {
        case .container: containers.remove(path)
        case .ttl: ttls.remove(path)
        case .normal(let s):
            ephemerals[s]?.remove(path)
            if ephemerals[s]?.isEmpty == true { ephemerals[s] = nil }
        case .void: break
        }
        let processed = dataWatches.triggerWatch(path, .nodeDeleted, acl: nodeACL)
        childWatches.triggerWatch(path, .nodeDeleted, acl: nodeACL, suppress: processed)
        childWatches.triggerWatch(parentName, .nodeChildrenChanged, acl: acl(of: parent))
    }

    public func setData(_ path: String, data: [UInt8]?, version: Int32, zxid: Int64, time: Int64) throws(KeeperCode) -> Stat {
        guard let n = nodes[path] else { throw .noNode }
        approximateDataSize += (data?.count ?? 0) - (n.data?.count ?? 0)
        changing(path, n) {
            n.data = data
            n.stat.mtime = time
            n.stat.mzxid = zxid
            n.stat.version = version
        }
        let s = stat(of: n)
        dataWatches.triggerWatch(path, .nodeDataChanged, acl: acl(of: n))
        return s
    }

    public func setACL(_ path: String, acl: [ACL], version: Int32) throws(KeeperCode) -> Stat {
        guard let n = nodes[path] else { throw .noNode }
        aclCache.release(n.acl)
        n.acl = aclCache.convert(acl)
        changing(path, n) { n.stat.aversion = version }
        return stat(of: n)
    }

    /// Deletes a closed session's ephemerals: the txn's list when it has one.
    /// Deletes a closed session's ephemerals: the txn's list first, in its
    /// order, then any the session still owns here (DataTree.killSession).
    public func killSession(_ sessionId: Int64, zxid: Int64, paths: [String]?) {
        let local = ephemerals.removeValue(forKey: sessionId) ?? []
        let list = paths.map { $0 + local.subtracting($0).sorted() } ?? local.sorted()
        for p in list {
            try? deleteNode(p, zxid: zxid)
        }
    }

    // MARK: transactions

    /// Applies a txn, then checks the digest it was logged or proposed with
    /// (nil: none recorded) against the tree's (DataTree.compareDigest).
    public func processTxn(_ hdr: TxnHeader, _ txn: Txn, digest expected: TxnDigest?) -> ProcessTxnResult {
        var rc = processTxn(hdr, txn)
        if let expected, digestFromLoadedSnapshot == nil, expected.version == DigestCalculator.version,
           expected.treeDigest != digest {
            digestMismatches += 1
            rc.digestMismatch = (expected.treeDigest, digest)
        }
        return rc
    }

    public func processTxn(_ hdr: TxnHeader, _ txn: Txn, isSubTxn: Bool = false) -> ProcessTxnResult {
        var rc = ProcessTxnResult(clientId: hdr.clientId, cxid: hdr.cxid, zxid: hdr.zxid, type: txn.type)
        do {
            switch txn {
            case .create(let c), .create2(let c):
                rc.path = c.path
                let n = try createNode(c.path, data: c.data, acl: c.acl, ephemeralOwner: c.ephemeral ? hdr.clientId : 0,
                                       parentCVersion: c.parentCVersion, zxid: hdr.zxid, time: hdr.time)
                if case .create2 = txn { rc.stat = stat(of: n) }
            case .createContainer(let c):
                rc.path = c.path
                let n = try createNode(c.path, data: c.data, acl: c.acl, ephemeralOwner: EphemeralType.containerOwner,
                                       parentCVersion: c.parentCVersion, zxid: hdr.zxid, time: hdr.time)
                rc.stat = stat(of: n)
            case .createTTL(let c):
                rc.path = c.path
                let n = try createNode(c.path, data: c.data, acl: c.acl, ephemeralOwner: EphemeralType.ttlOwner(c.ttl),
                                       parentCVersion: c.parentCVersion, zxid: hdr.zxid, time: hdr.time)
                rc.stat = stat(of: n)
            case .delete(let p), .deleteContainer(let p):
                rc.path = p
                try deleteNode(p, zxid: hdr.zxid)
            case .setData(let s), .reconfig(let s):
                rc.path = s.path
                rc.stat = try setData(s.path, data: s.data, version: s.version, zxid: hdr.zxid, time: hdr.time)
            case .setACL(let s):
                rc.path = s.path
                rc.stat = try setACL(s.path, acl: s.acl, version: s.version)
            case .closeSession(let paths):
                killSession(hdr.clientId, zxid: hdr.zxid, paths: paths)
            case .createSession:
                break
            case .error(let e):
                rc.err = e
            case .check(let p, _):
                rc.path = p
            case .multi(let txns):
                let failed = txns.contains { if case .error = $0 { true } else { false } }
                var postFailed = false
                for sub in txns {
                    // One failed op means none is applied: ops before it report OK,
                    // ops after it RUNTIMEINCONSISTENCY.
                    let applied: Txn
                    if case .error = sub {
                        postFailed = true
                        applied = sub
                    } else if failed {
                        applied = .error(postFailed ? KeeperCode.runtimeInconsistency.rawValue : 0)
                    } else {
                        applied = sub
                    }
                    let subHdr = TxnHeader(clientId: hdr.clientId, cxid: hdr.cxid, zxid: hdr.zxid, time: hdr.time, type: applied.type)
                    let subRc = processTxn(subHdr, applied, isSubTxn: true)
                    rc.multiResult.append(subRc)
                    if subRc.err != 0 && rc.err == 0 { rc.err = subRc.err }
                }
            }
        } catch {
            rc.err = error.rawValue
        }
        // Replaying a create after a fuzzy snapshot that already holds the node
        // must still bring the parent's cversion and pzxid forward.
        if case .create(let c) = txn, rc.err == KeeperCode.nodeExists.rawValue {
            if let parent = nodes[PathUtils.parent(of: c.path)] {
                let pcv = c.parentCVersion == -1 ? parent.stat.cversion &+ 1 : c.parentCVersion
                if pcv > parent.stat.cversion {
                    changing(PathUtils.parent(of: c.path), parent) {
                        parent.stat.cversion = pcv
                        parent.stat.pzxid = hdr.zxid
                    }
                }
            } else {
                rc.err = KeeperCode.noNode.rawValue
            }
        }
        if !isSubTxn {
            if hdr.zxid > lastProcessedZxid { lastProcessedZxid = hdr.zxid }
            noteDigest(zxid: hdr.zxid)
        }
        return rc
    }

    /// Records the digest after a txn, or, while replaying a fuzzy snapshot,
    /// checks it once replay reaches the zxid the snapshot's digest is for.
    private func noteDigest(zxid: Int64) {
        guard let target = digestFromLoadedSnapshot else {
            lastProcessedZxidDigest = (zxid, digest)
            return
        }
        if zxid == target.zxid {
            if digest != target.digest { digestMismatches += 1 }
            digestFromLoadedSnapshot = nil
        }
    }

    /// The digest section of the snapshot just loaded. One older than the
    /// snapshot itself cannot be checked (Apache ignores it too).
    public func setDigestFromLoadedSnapshot(zxid: Int64, version: Int32, digest d: Int64) {
        guard zxid > 0, version == DigestCalculator.version, zxid >= lastProcessedZxid else { return }
        if zxid == lastProcessedZxid {
            if d != digest { digestMismatches += 1 }
            lastProcessedZxidDigest = (zxid, digest)
        } else {
            digestFromLoadedSnapshot = (zxid, d)
        }
    }

    // MARK: container and TTL reaping

    /// Containers that had children and have none now, and TTL nodes past their TTL
    /// (ContainerManager.getCandidates).
    public func reapCandidates(now: Int64, maxNeverUsedIntervalMs: Int64 = 0) -> [String] {
        var out: [String] = []
        for p in containers.sorted() {
            guard let n = nodes[p], n.children.isEmpty else { continue }
            if n.stat.cversion > 0 || (maxNeverUsedIntervalMs > 0 && now - n.stat.mtime > maxNeverUsedIntervalMs) { out.append(p) }
        }
        for p in ttls.sorted() {
            guard let n = nodes[p], n.children.isEmpty else { continue }
            if case .ttl(let ttl) = EphemeralType.of(owner: n.stat.ephemeralOwner, extendedTypesEnabled: extendedTypesEnabled),
               now - n.stat.mtime > ttl {
                out.append(p)
            }
        }
        return out
    }

    public func setLastProcessedZxid(_ z: Int64) { lastProcessedZxid = z }

    // MARK: snapshots

    /// Child names of a node, for walking the tree parent before child.
    public func children(of path: String) -> [String] { getNode(path).map { Array($0.children) } ?? [] }

    /// An empty tree for loading a snapshot into: no nodes, an empty ACL cache.
    public static func emptyForLoading(extendedTypesEnabled: Bool, acls: [(key: Int64, acl: [ACL])]) -> DataTree {
        let t = DataTree(extendedTypesEnabled: extendedTypesEnabled)
        t.nodes = [:]
        t.approximateDataSize = 0
        t.digest = 0
        t.aclCache.load(acls)
        return t
    }

    public enum LoadError: Error, Equatable {
        case missingParent(String)
    }

    /// Nodes loaded whose ACL key the snapshot's cache lacked (a fuzzy snapshot
    /// can catch a node whose ACL list was released meanwhile; replay fixes it).
    public private(set) var unknownACLKeys = 0

    /// Adds one snapshot node. The root comes as "" (or any path without '/');
    /// every other node's parent must already be loaded.
    public func loadNode(path rawPath: String, data: [UInt8]?, aclKey: Int64, stat: StatPersisted) throws(LoadError) {
        let path = rawPath.contains("/") ? rawPath : "/"
        if !aclCache.addUsage(aclKey) { unknownACLKeys += 1 }
        let node = DataNode(data: data, acl: aclKey, stat: stat)
        if path != "/" {
            guard let parent = nodes[PathUtils.parent(of: path)] else { throw .missingParent(path) }
            parent.children.insert(PathUtils.name(of: path))
        }
        if let old = nodes[path] {
            node.children = old.children
            digest &-= old.digest
        }
        nodes[path] = node
        digest &+= refreshDigest(path, node)
        approximateDataSize += path.utf8.count + (data?.count ?? 0)
        switch EphemeralType.of(owner: stat.ephemeralOwner, extendedTypesEnabled: extendedTypesEnabled) {
        case .container: containers.insert(path)
        case .ttl: ttls.insert(path)
        case .normal(let s): ephemerals[s, default: []].insert(path)
        case .void: break
        }
    }

    /// After a load: drop ACL entries nobody uses.
    public func finishLoading() { aclCache.purgeUnused() }

    /// Ephemerals whose session is gone (not in the restored session table)
    /// are deleted without a txn at the last zxid, as Apache does at start-up;
    /// the digest then stands for the tree without them.
    public func removeOrphanEphemerals(liveSessions: Set<Int64>) -> [String] {
        var removed: [String] = []
        for sid in ephemerals.keys.sorted() where !liveSessions.contains(sid) {
            for p in ephemerals[sid]!.sorted(by: >) {
                if (try? deleteNode(p, zxid: lastProcessedZxid)) != nil { removed.append(p) }
            }
            ephemerals[sid] = nil
        }
        if !removed.isEmpty, lastProcessedZxidDigest != nil { lastProcessedZxidDigest = (lastProcessedZxid, digest) }
        return removed
    }
}
