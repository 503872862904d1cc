// The ephemerals index, killSession, and container/TTL reap candidates
// (wire-protocol.md §8.4; DataTree.killSession and ContainerManager.getCandidates in Apache).
import Testing
import ZKData
import ZKJute

@Suite struct EphemeralTests {
    @Test func indexFollowsCreatesAndDeletes() throws {
        let tree = DataTree()
        try tree.create("/e1", owner: 7, zxid: 1)
        try tree.create("/e2", owner: 7, zxid: 2)
        try tree.create("/e3", owner: 8, zxid: 3)
        try tree.create("/p", zxid: 4)
        #expect(tree.getEphemerals(7) == ["/e1", "/e2"])
        #expect(tree.getEphemerals(8) == ["/e3"])
        #expect(tree.getEphemerals(9) == [])
        #expect(tree.ephemeralCount == 3)
        try tree.deleteNode("/e1", zxid: 5)
        #expect(tree.getEphemerals(7) == ["/e2"])
        try tree.deleteNode("/e2", zxid: 6)
        #expect(tree.ephemerals[7] == nil)
        #expect(tree.ephemeralCount == 1)
    }

    @Test func killSessionFromTheIndex() throws {
        let tree = DataTree()
        try tree.create("/e1", owner: 7, zxid: 1)
        try tree.create("/d", zxid: 2)
        try tree.create("/d/e2", owner: 7, zxid: 3)
        try tree.create("/e3", owner: 8, zxid: 4)
        tree.killSession(7, zxid: 10, paths: nil)
        #expect(tree.getNode("/e1") == nil && tree.getNode("/d/e2") == nil)
        #expect(tree.getNode("/d") != nil && tree.getNode("/e3") != nil)
        #expect(tree.getEphemerals(7).isEmpty)
        #expect(tree.ephemeralCount == 1)
        #expect(tree.statOf("/d")!.pzxid == 10)
        #expect(tree.statOf("/")!.pzxid == 10)
        // killing an unknown session is harmless
        tree.killSession(99, zxid: 11, paths: nil)
        #expect(tree.nodeCount == 7)
    }

    @Test func killSessionFiresDeleteWatches() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/e1", owner: 7, zxid: 1)
        _ = try tree.getData("/e1", watcher: w)
        _ = try tree.getChildren("/", watcher: w)
        tree.killSession(7, zxid: 2, paths: nil)
        #expect(w.events == [Pair(.nodeDeleted, "/e1"), Pair(.nodeChildrenChanged, "/")])
    }
}

@Suite struct ReapCandidateTests {
    @Test func containersBecomeCandidatesOnceTheyHadChildrenAndHaveNone() throws {
        let tree = DataTree()
        try tree.create("/c1", owner: EphemeralType.containerOwner, zxid: 1)
        try tree.create("/c2", owner: EphemeralType.containerOwner, zxid: 2)
        try tree.create("/c3", owner: EphemeralType.containerOwner, zxid: 3)
        #expect(tree.reapCandidates(now: 1_000_000) == [])  // never used: cversion 0
        try tree.create("/c1/x", zxid: 4)
        try tree.create("/c2/x", zxid: 5)
        #expect(tree.reapCandidates(now: 1_000_000) == [])  // have children
        try tree.deleteNode("/c1/x", zxid: 6)
        #expect(tree.reapCandidates(now: 1_000_000) == ["/c1"])
        try tree.deleteNode("/c2/x", zxid: 7)
        #expect(tree.reapCandidates(now: 1_000_000) == ["/c1", "/c2"])
        try tree.deleteNode("/c1", zxid: 8)
        #expect(tree.reapCandidates(now: 1_000_000) == ["/c2"])
    }

    @Test func neverUsedContainersAfterMaxNeverUsedInterval() throws {
        let tree = DataTree()
        try tree.create("/c", owner: EphemeralType.containerOwner, zxid: 1, time: 1000)
        #expect(tree.reapCandidates(now: 5000, maxNeverUsedIntervalMs: 0) == [])
        #expect(tree.reapCandidates(now: 4000, maxNeverUsedIntervalMs: 3000) == [])
        #expect(tree.reapCandidates(now: 4001, maxNeverUsedIntervalMs: 3000) == ["/c"])
    }

    @Test func persistentAndEphemeralNodesAreNeverCandidates() throws {
        let tree = DataTree(extendedTypesEnabled: true)
        try tree.create("/p", zxid: 1, time: 0)
        try tree.create("/p/x", zxid: 2, time: 0)
        try tree.deleteNode("/p/x", zxid: 3)
        try tree.create("/e", owner: 5, zxid: 4, time: 0)
        #expect(tree.reapCandidates(now: Int64.max / 2, maxNeverUsedIntervalMs: 1) == [])
    }

    @Test func ttlNodesExpireWhenChildlessAndOlderThanTheirTTL() throws {
        let tree = DataTree(extendedTypesEnabled: true)
        try tree.create("/t1", owner: EphemeralType.ttlOwner(100), zxid: 1, time: 1000)
        try tree.create("/t2", owner: EphemeralType.ttlOwner(100), zxid: 2, time: 1000)
        try tree.create("/t2/child", zxid: 3, time: 1000)
        #expect(tree.reapCandidates(now: 1100) == [])
        #expect(tree.reapCandidates(now: 1101) == ["/t1"])
        // mtime, not ctime, counts: a setData restarts the clock
        _ = try tree.setData("/t1", data: [1], version: 1, zxid: 4, time: 2000)
        #expect(tree.reapCandidates(now: 2100) == [])
        #expect(tree.reapCandidates(now: 2101) == ["/t1"])
    }

    @Test func containersAreListedBeforeTTLs() throws {
        let tree = DataTree(extendedTypesEnabled: true)
        try tree.create("/a-ttl", owner: EphemeralType.ttlOwner(1), zxid: 1, time: 0)
        try tree.create("/b-container", owner: EphemeralType.containerOwner, zxid: 2, time: 0)
        try tree.create("/b-container/x", zxid: 3)
        try tree.deleteNode("/b-container/x", zxid: 4)
        #expect(tree.reapCandidates(now: 10) == ["/b-container", "/a-ttl"])
    }
}
