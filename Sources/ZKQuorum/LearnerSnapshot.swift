// The database a leader sends after SNAP (quorum-protocol.md §5.4): the
// session table, the ACL cache and the nodes exactly as in a snapshot file's
// body, the "/" terminator, then the string "BenWasHere" as a signature. No
// file header, seals or digest section.
import NIOCore
import ZKData
import ZKJute
import ZKPersistence

public enum LearnerSnapshot {
    public static let signature = "BenWasHere"
    /// StatPersisted: six longs and three ints.
    static let statPersistedBytes = 6 * 8 + 3 * 4

    /// `nodes` is the serialized tree (SnapshotFormat.writeNode for each node, parents first).
    public static func write(sessions: [(id: Int64, timeout: Int32)], acls: [(key: Int64, acl: [ACL])],
                             nodes: ByteBuffer, to out: inout ByteBuffer) {
        SnapshotFormat.writeSessionsAndACLs(sessions: sessions, acls: acls, to: &out)
        var n = nodes
        out.writeBuffer(&n)
        out.writeJuteString("/")
        out.writeJuteString(signature)
    }

    /// The nodes of `tree`, parents first, as `write` takes them. The caller
    /// holds the tree still, so the stream is the tree at one zxid.
    public static func serialize(_ tree: DataTree) -> ByteBuffer {
        var body = ByteBuffer()
        var stack = ["/"]
        while let p = stack.popLast() {
            guard let n = tree.getNode(p) else { continue }
            SnapshotFormat.writeNode(SnapshotFormat.Node(path: p == "/" ? "" : p, data: n.data, aclKey: n.acl, stat: n.stat), to: &body)
            for c in n.children { stack.append(PathUtils.join(p, c)) }
        }
        return body
    }

    public struct Loaded {
        public var sessions: [Int64: Int32]
        public var tree: DataTree
    }

    public struct BadSnapshot: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the stream into a fresh tree, checking the signature at the end.
    public static func read(_ r: QuorumStreamReader, extendedTypesEnabled: Bool) throws -> Loaded {
        let sessionCount = try r.int()
        guard sessionCount >= 0 else { throw BadSnapshot(description: "negative session count \(sessionCount)") }
        var sessions: [Int64: Int32] = [:]
        for _ in 0..<sessionCount { sessions[try r.long()] = try r.int() }
        let aclCount = try r.int()
        guard aclCount >= 0 else { throw BadSnapshot(description: "negative ACL cache size \(aclCount)") }
        var acls: [(key: Int64, acl: [ACL])] = []
        for _ in 0..<aclCount {
            let key = try r.long()
            let n = try r.int()
            guard n >= -1, n <= 1 << 16 else { throw BadSnapshot(description: "ACL list of \(n) entries") }
            var list: [ACL] = []
            for _ in 0..<max(n, 0) {
                let perms = try r.int()
                let scheme = try r.string() ?? ""
                let id = try r.string() ?? ""
                list.append(ACL(perms: perms, id: Id(scheme: scheme, id: id)))
            }
            acls.append((key, list))
        }
        let tree = DataTree.emptyForLoading(extendedTypesEnabled: extendedTypesEnabled, acls: acls)
        while true {
            guard let path = try r.string() else { throw BadSnapshot(description: "null node path") }
            if path == "/" { break }
            let data = try r.buffer()
            let aclKey = try r.long()
            var statBytes = try r.source.readFully(statPersistedBytes)
            let stat = try StatPersisted(from: &statBytes)
            do {
                try tree.loadNode(path: path, data: data, aclKey: aclKey, stat: stat)
            } catch {
                throw BadSnapshot(description: "node \(path) arrives before its parent")
            }
        }
        guard tree.getNode("/") != nil else { throw BadSnapshot(description: "no root node") }
        tree.finishLoading()
        let sig = try r.string()
        guard sig == signature else { throw BadSnapshot(description: "missing signature (got \(sig.map { "\"\($0)\"" } ?? "null"))") }
        return Loaded(sessions: sessions, tree: tree)
    }
}
