// The running tree digest: Apache's value for the initial tree, kept equal to
// a fresh sum through every kind of change, and mismatches counted.
import Testing
import ZKData
import ZKJute

@Suite struct DigestTests {
    @Test func initialTreeHasApachesDigest() {
        // disk-format.md §4.5: root under "" plus /zookeeper, children of /zookeeper/ left out.
        #expect(DataTree().digest == 0x51c6_d660)
    }

    @Test func nodesUnderZookeeperCountNothing() {
        let s = StatPersisted()
        #expect(DigestCalculator.nodeDigest(path: "/zookeeper/quota", data: [1], stat: s) == 0)
        #expect(DigestCalculator.nodeDigest(path: "/zookeeper", data: nil, stat: s) != 0)
        // "/" is the root and digests as the empty path.
        #expect(DigestCalculator.nodeDigest(path: "/", data: nil, stat: s) == DigestCalculator.nodeDigest(path: "", data: nil, stat: s))
    }

    @Test func everyChangeKeepsTheRunningDigestExact() throws {
        let t = DataTree(extendedTypesEnabled: true)
        var zxid: Int64 = 1
        func step(_ txn: Txn, client: Int64 = 0x42) {
            zxid += 1
            let rc = apply(t, txn, zxid: zxid, clientId: client, time: 1000 + zxid)
            #expect(t.digest == t.recomputedDigest(), "after \(txn.type) at \(zxid): err \(rc.err)")
        }
        step(.create(createTxn("/a", [1, 2, 3])))
        step(.create(createTxn("/a/b", nil)))
        step(.create(createTxn("/a/e1", [9], ephemeral: true)), client: 0x77)
        step(.create(createTxn("/a/e2", [], ephemeral: true)), client: 0x77)
        step(.setData(SetDataTxn(path: "/a", data: [4, 5], version: 1)))
        step(.setData(SetDataTxn(path: "/", data: [7], version: 1)))
        step(.setACL(SetACLTxn(path: "/a/b", acl: readOnlyWorld, version: 1)))
        step(.createContainer(CreateContainerTxn(path: "/c", data: [1], acl: open, parentCVersion: -1)))
        step(.createTTL(CreateTTLTxn(path: "/t", data: [2], acl: open, parentCVersion: -1, ttl: 500)))
        step(.create(createTxn("/c/x")))
        step(.delete(path: "/c/x"))
        step(.deleteContainer(path: "/c"))
        step(.setData(SetDataTxn(path: "/zookeeper/quota", data: [1], version: 1)))
        step(.multi([.create(createTxn("/m1")), .setData(SetDataTxn(path: "/m1", data: [3], version: 1))]))
        step(.multi([.create(createTxn("/m2")), .error(KeeperCode.noNode.rawValue)]))
        step(.closeSession(paths: ["/a/e1"]), client: 0x77)   // /a/e2 goes too: the session owns it here
        #expect(t.getNode("/a/e2") == nil)
        // A replayed create of a node that exists still moves its parent.
        step(.create(createTxn("/a/b", nil, pcv: 40)))
        step(.delete(path: "/nope"))
        #expect(t.lastProcessedZxidDigest?.zxid == zxid)
        #expect(t.lastProcessedZxidDigest?.digest == t.digest)
    }

    @Test func mismatchesAreCountedNotFatal() {
        let t = DataTree()
        let h = hdr(zxid: 2, type: OpCode.create.rawValue)
        _ = t.processTxn(h, .create(createTxn("/a")), digest: TxnDigest(version: 2, treeDigest: 12345))
        #expect(t.digestMismatches == 1)
        #expect(t.getNode("/a") != nil)
        let right = t.digest
        let h2 = hdr(zxid: 3, type: OpCode.setData.rawValue)
        let after: Int64 = {
            let probe = DataTree()
            _ = probe.processTxn(h, .create(createTxn("/a")))
            _ = probe.processTxn(h2, .setData(SetDataTxn(path: "/a", data: [1], version: 1)))
            return probe.digest
        }()
        #expect(right != after)
        _ = t.processTxn(h2, .setData(SetDataTxn(path: "/a", data: [1], version: 1)), digest: TxnDigest(version: 2, treeDigest: after))
        #expect(t.digestMismatches == 1)
        // Another digest version is not compared.
        _ = t.processTxn(hdr(zxid: 4, type: OpCode.delete.rawValue), .delete(path: "/a"), digest: TxnDigest(version: 1, treeDigest: 1))
        #expect(t.digestMismatches == 1)
    }

    @Test func fuzzySnapshotDigestIsCheckedWhenReplayReachesIt() {
        // The "snapshot" named zxid 1 already holds the tree of zxid 3, and its
        // digest section says so.
        let a = Txn.create(createTxn("/a", pcv: 1)), b = Txn.create(createTxn("/b", pcv: 2))
        let full = DataTree()
        apply(full, a, zxid: 2)
        let digestAt2 = full.digest
        apply(full, b, zxid: 3)
        let t = DataTree()
        apply(t, a, zxid: 2)
        apply(t, b, zxid: 3)
        t.setLastProcessedZxid(1)
        t.setDigestFromLoadedSnapshot(zxid: 3, version: 2, digest: full.digest)
        #expect(t.digestFromLoadedSnapshot != nil)
        // While fuzzy, a logged digest describes an older tree: not compared.
        _ = t.processTxn(hdr(zxid: 2, type: 1), a, digest: TxnDigest(version: 2, treeDigest: digestAt2))
        #expect(t.digestMismatches == 0)
        // Replay reaches the snapshot digest's zxid: the tree is whole again and both compare.
        _ = t.processTxn(hdr(zxid: 3, type: 1), b, digest: TxnDigest(version: 2, treeDigest: full.digest))
        #expect(t.digestFromLoadedSnapshot == nil)
        #expect(t.digestMismatches == 0)
        _ = t.processTxn(hdr(zxid: 4, type: 1), .create(createTxn("/c", pcv: 3)), digest: TxnDigest(version: 2, treeDigest: 1))
        #expect(t.digestMismatches == 1)
        #expect(t.lastProcessedZxidDigest?.zxid == 4)
    }

    @Test func snapshotDigestForItsOwnZxidIsCheckedAtOnce() {
        let t = DataTree()
        apply(t, .create(createTxn("/a")), zxid: 2)
        t.setLastProcessedZxid(2)
        t.setDigestFromLoadedSnapshot(zxid: 2, version: 2, digest: t.digest &+ 1)
        #expect(t.digestMismatches == 1)
        #expect(t.digestFromLoadedSnapshot == nil)
    }
}
