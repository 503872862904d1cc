// Writes a fuzzy snapshot of the live tree (ZooKeeperServer.takeSnapshot): the
// tree is walked parent before child taking the database lock one node at a
// time, so writes go on meanwhile; replay from the snapshot's zxid + 1 makes
// up for what changed during the walk.
import NIOCore
import ZKData
import ZKJute
import ZKPersistence

enum SnapshotWriter {
    static func write(db: ZKDatabase, sessions: [(id: Int64, timeout: Int32)], to snapLog: FileTxnSnapLog, fsync: Bool,
                      digestEnabled: Bool, compression: SnapshotCompression.Method = .none) throws -> (zxid: Int64, nodes: Int) {
        let zxid = db.lastProcessedZxid
        let aclsBefore = db.withTree { $0.aclCache.entries }
        var body = ByteBuffer()
        var count = 0
        var stack = ["/"]
        while let path = stack.popLast() {
            let item: (SnapshotFormat.Node, [String])? = db.withTree { t in
                guard let n = t.getNode(path) else { return nil }
                let node = SnapshotFormat.Node(path: path == "/" ? "" : path, data: n.data, aclKey: n.acl, stat: n.stat)
                return (node, Array(n.children))
            }
            guard let (node, children) = item else { continue }   // deleted while we walked
            SnapshotFormat.writeNode(node, to: &body)
            count += 1
            for c in children { stack.append(PathUtils.join(path, c)) }
        }
        // Keys created during the walk are in the later list, keys released in
        // the earlier one; nodes may refer to either.
        var acls = Dictionary(aclsBefore.map { ($0.key, $0.acl) }, uniquingKeysWith: { a, _ in a })
        let (aclsAfter, zxidDigest) = db.withTree { ($0.aclCache.entries, $0.lastProcessedZxidDigest) }
        for e in aclsAfter { acls[e.key] = e.acl }
        var out = ByteBuffer()
        out.reserveCapacity(body.readableBytes + 4096)
        SnapshotFormat.writeHead(sessions: sessions, acls: acls.keys.sorted().map { ($0, acls[$0]!) }, to: &out)
        out.writeBuffer(&body)
        // The digest as of the last txn applied when the walk ended: replay
        // reaching that zxid must arrive at the same tree (DataTree.serializeZxidDigest).
        SnapshotFormat.writeTail(digest: digestEnabled ? zxidDigest : nil, to: &out)
        try snapLog.writeSnapshot(out, zxid: zxid, fsync: fsync, compression: compression)
        return (zxid, count)
    }
}
