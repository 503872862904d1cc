// Stat maintenance (wire-protocol.md §8.3, §8.4; DataTree/DataNode.copyStat in Apache).
import Testing
import ZKData
import ZKJute

@Suite struct StatRuleTests {
    @Test func createSetsZxidsTimesAndZeroVersions() throws {
        let tree = DataTree()
        try tree.create("/t", [1, 2, 3], zxid: 10, time: 1234)
        let s = try #require(tree.statOf("/t"))
        var expected = Stat()
        expected.czxid = 10; expected.mzxid = 10; expected.pzxid = 10
        expected.ctime = 1234; expected.mtime = 1234
        expected.dataLength = 3
        #expect(s == expected)
    }

    @Test func createBumpsParentStoredCversionAndPzxid() throws {
        let tree = DataTree()
        try tree.create("/t", zxid: 10)
        let root = tree.getNode("/")!
        #expect(root.stat.cversion == 1)
        #expect(root.stat.pzxid == 10)
        #expect(root.stat.mzxid == 0)  // child changes do not touch mzxid
        // reported: stored 1 * 2 - 2 children
        #expect(tree.statOf("/")!.cversion == 0)
        #expect(tree.statOf("/")!.numChildren == 2)
    }

    @Test func reportedCversionCountsCreatesAndDeletes() throws {
        let tree = DataTree()
        try tree.create("/t", zxid: 1)
        try tree.create("/t/a", zxid: 2)
        try tree.create("/t/b", zxid: 3)
        try tree.create("/t/c", zxid: 4)
        try tree.deleteNode("/t/a", zxid: 5)
        let node = tree.getNode("/t")!
        #expect(node.stat.cversion == 3)  // deletes never change the stored value
        let s = tree.statOf("/t")!
        #expect(s.numChildren == 2)
        #expect(s.cversion == 4)  // §8.3 live example
        #expect(s.pzxid == 5)
        #expect(s.mzxid == 1)
    }

    @Test func explicitParentCversionIsUsedAndNeverGoesBack() throws {
        let tree = DataTree()
        try tree.create("/p", zxid: 1)
        _ = try tree.createNode("/p/a", data: nil, acl: open, ephemeralOwner: 0, parentCVersion: 7, zxid: 2, time: 0)
        #expect(tree.getNode("/p")!.stat.cversion == 7)
        #expect(tree.getNode("/p")!.stat.pzxid == 2)
        // a replayed create with an older parentCVersion changes neither cversion nor pzxid
        _ = try tree.createNode("/p/b", data: nil, acl: open, ephemeralOwner: 0, parentCVersion: 5, zxid: 3, time: 0)
        #expect(tree.getNode("/p")!.stat.cversion == 7)
        #expect(tree.getNode("/p")!.stat.pzxid == 2)
        #expect(tree.statOf("/p")!.cversion == 7 * 2 - 2)
        // -1 means "current + 1"
        try tree.create("/p/c", zxid: 4)
        #expect(tree.getNode("/p")!.stat.cversion == 8)
        #expect(tree.getNode("/p")!.stat.pzxid == 4)
    }

    @Test func deleteRaisesPzxidOnlyWhenLarger() throws {
        let tree = DataTree()
        try tree.create("/u", zxid: 1)
        try tree.create("/u/x", zxid: 20)
        try tree.create("/u/y", zxid: 21)
        try tree.deleteNode("/u/x", zxid: 15)
        #expect(tree.statOf("/u")!.pzxid == 21)
        #expect(tree.statOf("/u")!.numChildren == 1)
        try tree.deleteNode("/u/y", zxid: 30)
        #expect(tree.statOf("/u")!.pzxid == 30)
        #expect(tree.getNode("/u")!.stat.cversion == 2)
        #expect(tree.statOf("/u")!.cversion == 4)
    }

    @Test func deleteOfMissingChildStillMovesParentPzxid() throws {
        let tree = DataTree()
        try tree.create("/u", zxid: 1)
        #expect(throws: KeeperCode.noNode) { try tree.deleteNode("/u/gone", zxid: 9) }
        #expect(tree.statOf("/u")!.pzxid == 9)
        #expect(throws: KeeperCode.noNode) { try tree.deleteNode("/nope/x", zxid: 10) }
    }

    @Test func setDataSetsVersionMzxidMtimeOnly() throws {
        let tree = DataTree()
        try tree.create("/d", [1], zxid: 3, time: 100)
        let s = try tree.setData("/d", data: [1, 2, 3, 4], version: 1, zxid: 8, time: 900)
        var expected = Stat()
        expected.czxid = 3; expected.ctime = 100; expected.pzxid = 3
        expected.mzxid = 8; expected.mtime = 900; expected.version = 1; expected.dataLength = 4
        #expect(s == expected)
        #expect(tree.statOf("/d") == expected)
        #expect(try tree.getData("/d", watcher: nil).0 == [1, 2, 3, 4])
        // the txn carries the new version; the tree stores it as given
        #expect(try tree.setData("/d", data: nil, version: 7, zxid: 9, time: 901).version == 7)
        #expect(throws: KeeperCode.noNode) { try tree.setData("/nope", data: nil, version: 1, zxid: 10, time: 0) }
    }

    @Test func setACLSetsAversionAndACLOnly() throws {
        let tree = DataTree()
        try tree.create("/a", zxid: 4, time: 50)
        let s = try tree.setACL("/a", acl: digestACL, version: 1)
        #expect(s.aversion == 1)
        #expect(s.version == 0 && s.mzxid == 4 && s.mtime == 50 && s.cversion == 0)
        let (acl, s2) = try tree.getACL("/a")
        #expect(acl == digestACL)
        #expect(s2 == s)
        #expect(try tree.setACL("/a", acl: open, version: 2).aversion == 2)
        #expect(try tree.getACL("/a").0 == open)
        #expect(throws: KeeperCode.noNode) { try tree.setACL("/nope", acl: open, version: 1) }
    }

    @Test func nullAndEmptyDataAreDistinct() throws {
        let tree = DataTree()
        try tree.create("/null", nil, zxid: 1)
        try tree.create("/empty", [], zxid: 2)
        let (nd, ns) = try tree.getData("/null", watcher: nil)
        let (ed, es) = try tree.getData("/empty", watcher: nil)
        #expect(nd == nil)
        #expect(ed == [])
        #expect(ns.dataLength == 0 && es.dataLength == 0)
        _ = try tree.setData("/empty", data: nil, version: 1, zxid: 3, time: 0)
        #expect(try tree.getData("/empty", watcher: nil).0 == nil)
        _ = try tree.setData("/null", data: [], version: 1, zxid: 4, time: 0)
        #expect(try tree.getData("/null", watcher: nil).0 == [])
    }

    @Test func createErrors() throws {
        let tree = DataTree()
        try tree.create("/a", zxid: 1)
        #expect(throws: KeeperCode.nodeExists) { try tree.create("/a", zxid: 2) }
        #expect(throws: KeeperCode.noNode) { try tree.create("/x/y", zxid: 3) }
        // a failed create changes nothing on the parent
        #expect(tree.getNode("/")!.stat.cversion == 1)
        #expect(tree.getNode("/")!.stat.pzxid == 1)
    }

    @Test func ephemeralOwnerVisibleOnlyForRealSessions() throws {
        let tree = DataTree(extendedTypesEnabled: true)
        try tree.create("/eph", owner: 0x0100_0005_7b75_0000, zxid: 1)
        try tree.create("/container", owner: EphemeralType.containerOwner, zxid: 2)
        try tree.create("/ttl", owner: EphemeralType.ttlOwner(5000), zxid: 3)
        try tree.create("/plain", zxid: 4)
        #expect(tree.statOf("/eph")!.ephemeralOwner == 0x0100_0005_7b75_0000)
        #expect(tree.statOf("/container")!.ephemeralOwner == 0)
        #expect(tree.statOf("/ttl")!.ephemeralOwner == 0)
        #expect(tree.statOf("/plain")!.ephemeralOwner == 0)
        // stored markers (§8.4)
        #expect(tree.getNode("/container")!.stat.ephemeralOwner == Int64.min)
        #expect(tree.getNode("/ttl")!.stat.ephemeralOwner == Int64(bitPattern: 0xFF00_0000_0000_1388))
        #expect(tree.containers == ["/container"])
        #expect(tree.ttls == ["/ttl"])
        #expect(tree.ephemerals == [0x0100_0005_7b75_0000: ["/eph"]])
    }

    @Test func containerMarkerHiddenEvenWithoutExtendedTypes() throws {
        let tree = DataTree()
        try tree.create("/container", owner: EphemeralType.containerOwner, zxid: 2)
        #expect(tree.statOf("/container")!.ephemeralOwner == 0)
        #expect(tree.containers == ["/container"])
        #expect(tree.ephemerals.isEmpty)
    }

    @Test func ephemeralTypeClassification() {
        #expect(EphemeralType.of(owner: 0, extendedTypesEnabled: true) == .void)
        #expect(EphemeralType.of(owner: Int64.min, extendedTypesEnabled: false) == .container)
        #expect(EphemeralType.of(owner: Int64.min, extendedTypesEnabled: true) == .container)
        #expect(EphemeralType.of(owner: 0x0100_0000_0000_0001, extendedTypesEnabled: true) == .normal(sessionId: 0x0100_0000_0000_0001))
        let ttl = EphemeralType.ttlOwner(0xFF_FFFF_FFFF)
        #expect(ttl == Int64(bitPattern: 0xFF00_00FF_FFFF_FFFF))
        #expect(EphemeralType.of(owner: ttl, extendedTypesEnabled: true) == .ttl(ms: 0xFF_FFFF_FFFF))
        #expect(EphemeralType.of(owner: EphemeralType.ttlOwner(1), extendedTypesEnabled: true) == .ttl(ms: 1))
        // without extended types the TTL encoding is an ordinary session id
        #expect(EphemeralType.of(owner: ttl, extendedTypesEnabled: false) == .normal(sessionId: ttl))
        #expect(EphemeralType.visibleOwner(ttl, extendedTypesEnabled: true) == 0)
        #expect(EphemeralType.visibleOwner(Int64.min, extendedTypesEnabled: false) == 0)
        #expect(EphemeralType.visibleOwner(77, extendedTypesEnabled: true) == 77)
        #expect(EphemeralType.visibleOwner(0, extendedTypesEnabled: true) == 0)
    }

    @Test func dataNodeClientStatFoldsChildrenIntoCversion() {
        var p = StatPersisted()
        p.cversion = 5; p.czxid = 1; p.mzxid = 2; p.pzxid = 3; p.ctime = 4; p.mtime = 5; p.version = 6; p.aversion = 7
        p.ephemeralOwner = 99
        let n = DataNode(data: [1, 2], acl: -1, stat: p, children: ["a", "b", "c"])
        let s = n.clientStat(extendedTypesEnabled: false)
        #expect(s.cversion == 7)
        #expect(s.numChildren == 3)
        #expect(s.dataLength == 2)
        #expect(s.ephemeralOwner == 99)
        #expect(s.czxid == 1 && s.mzxid == 2 && s.pzxid == 3 && s.ctime == 4 && s.mtime == 5 && s.version == 6 && s.aversion == 7)
    }

    @Test func allChildrenNumber() throws {
        let tree = DataTree()
        try tree.create("/a", zxid: 1)
        try tree.create("/a/b", zxid: 2)
        try tree.create("/a/b/c", zxid: 3)
        try tree.create("/ab", zxid: 4)
        try tree.create("/x", zxid: 5)
        #expect(tree.getAllChildrenNumber("/") == 8)  // 5 user nodes + /zookeeper, quota, config
        #expect(tree.getAllChildrenNumber("/a") == 2)  // /ab is not under /a
        #expect(tree.getAllChildrenNumber("/a/b") == 1)
        #expect(tree.getAllChildrenNumber("/a/b/c") == 0)
        #expect(tree.nodeCount == 10)
        try tree.deleteNode("/a/b/c", zxid: 6)
        #expect(tree.getAllChildrenNumber("/a") == 1)
        #expect(tree.getAllChildrenNumber("/") == 7)
    }

    @Test func readsOfMissingNodes() {
        let tree = DataTree()
        #expect(throws: KeeperCode.noNode) { try tree.getData("/x", watcher: nil) }
        #expect(throws: KeeperCode.noNode) { try tree.getChildren("/x", watcher: nil) }
        #expect(throws: KeeperCode.noNode) { try tree.getACL("/x") }
        #expect(throws: KeeperCode.noNode) { try tree.statNode("/x", watcher: nil) }
    }

    @Test func aclCacheSharesAndReleasesKeys() throws {
        let tree = DataTree()
        let before = tree.aclCache.count  // the READ world ACL of /zookeeper/config
        try tree.create("/a", acl: digestACL, zxid: 1)
        try tree.create("/b", acl: digestACL, zxid: 2)
        #expect(tree.getNode("/a")!.acl == tree.getNode("/b")!.acl)
        #expect(tree.aclCache.count == before + 1)
        try tree.deleteNode("/a", zxid: 3)
        #expect(tree.aclCache.count == before + 1)
        try tree.deleteNode("/b", zxid: 4)
        #expect(tree.aclCache.count == before)
        // A client's open ACL gets a key of its own, as in Apache's snapshots;
        // -1 is only for the built-in nodes.
        try tree.create("/o", zxid: 5)
        #expect(tree.getNode("/o")!.acl != ReferenceCountedACLCache.openUnsafeKey)
        #expect(tree.getNode("/")!.acl == ReferenceCountedACLCache.openUnsafeKey)
        #expect(tree.aclCache.acls(for: tree.getNode("/o")!.acl) == ACL.openACLUnsafe)
    }
}
