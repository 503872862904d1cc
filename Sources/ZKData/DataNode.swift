// One znode: data, the ACL cache key, the persisted stat and child names.
// Owned by the DataTree; not shared across threads on its own.
import ZKJute

public final class DataNode {
    public var data: [UInt8]?
    public var acl: Int64
    public var stat: StatPersisted
    public var children: Set<String>
    /// This node's part of the tree digest, kept by the DataTree whenever it
    /// changes the node, so the old value never has to be computed again.
    public internal(set) var digest: Int64 = 0

    public init(data: [UInt8]?, acl: Int64, stat: StatPersisted, children: Set<String> = []) {
        self.data = data; self.acl = acl; self.stat = stat; self.children = children
    }

    /// Stat as a client sees it (DataNode.copyStat): cversion folds in deletes,
    /// marker owners of containers and TTL nodes read as 0.
    public func clientStat(extendedTypesEnabled: Bool) -> Stat {
        var s = Stat()
        s.czxid = stat.czxid; s.mzxid = stat.mzxid; s.ctime = stat.ctime; s.mtime = stat.mtime
        s.version = stat.version; s.aversion = stat.aversion; s.pzxid = stat.pzxid
        let n = Int32(children.count)
        s.numChildren = n
        s.cversion = stat.cversion &* 2 &- n
        s.ephemeralOwner = EphemeralType.visibleOwner(stat.ephemeralOwner, extendedTypesEnabled: extendedTypesEnabled)
        s.dataLength = Int32(data?.count ?? 0)
        return s
    }
}
