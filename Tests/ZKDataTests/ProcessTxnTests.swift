// DataTree.processTxn for every Txn case (DataTree.processTxn in Apache;
// multi semantics of wire-protocol.md §11.2 and disk-format.md §4.3).
import Testing
import ZKData
import ZKJute

@Suite struct ProcessTxnTests {
    @Test func resultCarriesHeaderFields() {
        let tree = DataTree()
        let rc = tree.processTxn(TxnHeader(clientId: 0x77, cxid: 12, zxid: 3, time: 9, type: -10), .createSession(timeOut: 4000))
        #expect(rc.clientId == 0x77 && rc.cxid == 12 && rc.zxid == 3)
        #expect(rc.type == -10)
        #expect(rc.err == 0)
        #expect(rc.path == nil && rc.stat == nil && rc.multiResult.isEmpty)
        #expect(tree.nodeCount == 5)
        #expect(tree.lastProcessedZxid == 3)
    }

    @Test func createHasPathButNoStat() throws {
        let tree = DataTree()
        let rc = apply(tree, .create(createTxn("/a", [1], pcv: 1)), zxid: 2, time: 77)
        #expect(rc.err == 0 && rc.type == 1)
        #expect(rc.path == "/a")
        #expect(rc.stat == nil)
        let s = tree.statOf("/a")!
        #expect(s.czxid == 2 && s.mtime == 77 && s.ctime == 77 && s.dataLength == 1 && s.ephemeralOwner == 0)
        #expect(tree.getNode("/")!.stat.cversion == 1)
    }

    @Test func create2ReturnsTheNewStat() throws {
        let tree = DataTree()
        let rc = apply(tree, .create2(createTxn("/b", [])), zxid: 3, time: 0x1a2_00fc_c7aa)
        var expected = Stat()
        expected.czxid = 3; expected.mzxid = 3; expected.pzxid = 3; expected.ctime = 0x1a2_00fc_c7aa; expected.mtime = 0x1a2_00fc_c7aa
        #expect(rc.path == "/b")
        #expect(rc.stat == expected)  // the Stat of the §10.2 create2 reply
    }

    @Test func ephemeralCreateIsOwnedByTheHeaderClient() throws {
        let tree = DataTree()
        let rc = apply(tree, .create(createTxn("/e", ephemeral: true)), zxid: 2, clientId: 0x5555)
        #expect(rc.err == 0)
        #expect(tree.statOf("/e")!.ephemeralOwner == 0x5555)
        #expect(tree.getEphemerals(0x5555) == ["/e"])
    }

    @Test func createContainerAndTTL() throws {
        let tree = DataTree(extendedTypesEnabled: true)
        let c = apply(tree, .createContainer(CreateContainerTxn(path: "/c", data: nil, acl: open, parentCVersion: 1)), zxid: 2)
        #expect(c.path == "/c" && c.err == 0 && c.type == 19)
        #expect(c.stat?.czxid == 2)
        #expect(c.stat?.ephemeralOwner == 0)
        #expect(tree.getNode("/c")!.stat.ephemeralOwner == EphemeralType.containerOwner)
        let t = apply(tree, .createTTL(CreateTTLTxn(path: "/t", data: [9], acl: open, parentCVersion: 2, ttl: 1000)), zxid: 3)
        #expect(t.path == "/t" && t.err == 0 && t.type == 21)
        #expect(t.stat?.dataLength == 1)
        #expect(t.stat?.ephemeralOwner == 0)
        #expect(tree.getNode("/t")!.stat.ephemeralOwner == EphemeralType.ttlOwner(1000))
        #expect(tree.containers == ["/c"] && tree.ttls == ["/t"])
        #expect(tree.getNode("/")!.stat.cversion == 2)
    }

    @Test func deleteAndDeleteContainer() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/a")), zxid: 2)
        apply(tree, .createContainer(CreateContainerTxn(path: "/c", data: nil, acl: open, parentCVersion: -1)), zxid: 3)
        let d = apply(tree, .delete(path: "/a"), zxid: 4)
        #expect(d.err == 0 && d.path == "/a" && d.type == 2)
        #expect(tree.getNode("/a") == nil)
        let dc = apply(tree, .deleteContainer(path: "/c"), zxid: 5)
        #expect(dc.err == 0 && dc.path == "/c" && dc.type == 20)
        #expect(tree.getNode("/c") == nil)
        #expect(tree.containers.isEmpty)
        #expect(tree.statOf("/")!.pzxid == 5)
    }

    @Test func setDataAndReconfig() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/a", [1])), zxid: 2)
        let rc = apply(tree, .setData(SetDataTxn(path: "/a", data: [2, 2], version: 1)), zxid: 3, time: 6000)
        #expect(rc.err == 0 && rc.path == "/a")
        #expect(rc.stat?.version == 1 && rc.stat?.mzxid == 3 && rc.stat?.mtime == 6000 && rc.stat?.dataLength == 2)
        let cfg = Array("server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=100000000".utf8)
        let r = apply(tree, .reconfig(SetDataTxn(path: "/zookeeper/config", data: cfg, version: -1)), zxid: 4)
        #expect(r.err == 0 && r.type == 16 && r.path == "/zookeeper/config")
        #expect(r.stat?.version == -1 && r.stat?.mzxid == 4)
        #expect(try tree.getData("/zookeeper/config", watcher: nil).0 == cfg)
    }

    @Test func setACL() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/a")), zxid: 2)
        let rc = apply(tree, .setACL(SetACLTxn(path: "/a", acl: digestACL, version: 1)), zxid: 3)
        #expect(rc.err == 0 && rc.path == "/a" && rc.stat?.aversion == 1)
        #expect(try tree.getACL("/a").0 == digestACL)
    }

    @Test func checkChangesNothing() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/a")), zxid: 2)
        let before = tree.statOf("/a")
        let rc = apply(tree, .check(path: "/a", version: 1), zxid: 3)
        #expect(rc.err == 0 && rc.path == "/a" && rc.type == 13 && rc.stat == nil)
        #expect(tree.statOf("/a") == before)
    }

    @Test func errorTxnReportsItsCodeAndChangesNothing() {
        let tree = DataTree()
        let rc = apply(tree, .error(KeeperCode.nodeExists.rawValue), zxid: 4)
        #expect(rc.err == -110)
        #expect(rc.type == -1)
        #expect(tree.nodeCount == 5)
        #expect(tree.lastProcessedZxid == 4)  // failed writes still consume a zxid
    }

    @Test func applyTimeErrorsBecomeRcErr() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/a")), zxid: 2)
        #expect(apply(tree, .create2(createTxn("/a")), zxid: 3).err == KeeperCode.nodeExists.rawValue)
        #expect(apply(tree, .create(createTxn("/x/y")), zxid: 4).err == KeeperCode.noNode.rawValue)
        #expect(apply(tree, .delete(path: "/nope"), zxid: 5).err == KeeperCode.noNode.rawValue)
        #expect(apply(tree, .setData(SetDataTxn(path: "/nope", data: nil, version: 1)), zxid: 6).err == -101)
        #expect(apply(tree, .setACL(SetACLTxn(path: "/nope", acl: open, version: 1)), zxid: 7).err == -101)
        let rc = apply(tree, .create2(createTxn("/a")), zxid: 8)
        #expect(rc.path == "/a" && rc.stat == nil)
        #expect(tree.lastProcessedZxid == 8)
    }

    /// Apache's processTxn: a top-level `create` that fails with NODEEXISTS
    /// (replay after a fuzzy snapshot) still applies setCversionPzxid to the
    /// parent with the txn's parentCVersion and zxid.
    @Test func nodeExistsOnCreateReplayStillAdvancesParentCversion() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/p")), zxid: 1)
        apply(tree, .create(createTxn("/p/c")), zxid: 2)
        #expect(tree.getNode("/p")!.stat.cversion == 1)
        let rc = apply(tree, .create(createTxn("/p/c", pcv: 3)), zxid: 9)
        #expect(rc.err == KeeperCode.nodeExists.rawValue)
        #expect(tree.getNode("/p")!.stat.cversion == 3)
        #expect(tree.getNode("/p")!.stat.pzxid == 9)
    }

    @Test func lastProcessedZxidOnlyMovesForward() {
        let tree = DataTree()
        apply(tree, .createSession(timeOut: 1), zxid: 10)
        apply(tree, .createSession(timeOut: 1), zxid: 7)
        #expect(tree.lastProcessedZxid == 10)
        tree.setLastProcessedZxid(3)
        #expect(tree.lastProcessedZxid == 3)
    }

    // MARK: closeSession

    @Test func closeSessionWithoutRecordDeletesTheSessionsEphemerals() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/e1", ephemeral: true)), zxid: 2, clientId: 5)
        apply(tree, .create(createTxn("/e2", ephemeral: true)), zxid: 3, clientId: 5)
        apply(tree, .create(createTxn("/o", ephemeral: true)), zxid: 4, clientId: 6)
        let rc = apply(tree, .closeSession(paths: nil), zxid: 5, clientId: 5)
        #expect(rc.err == 0 && rc.type == -11)
        #expect(tree.getNode("/e1") == nil && tree.getNode("/e2") == nil)
        #expect(tree.getNode("/o") != nil)
        #expect(tree.getEphemerals(5).isEmpty)
        #expect(tree.ephemerals[5] == nil)
        #expect(tree.getEphemerals(6) == ["/o"])
        #expect(tree.statOf("/")!.pzxid == 5)
    }

    @Test func closeSessionDeletesTheListedPaths() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/e1", ephemeral: true)), zxid: 2, clientId: 5)
        apply(tree, .create(createTxn("/e2", ephemeral: true)), zxid: 3, clientId: 5)
        // a listed path that no longer exists is ignored
        let rc = apply(tree, .closeSession(paths: ["/e2", "/e1", "/gone"]), zxid: 4, clientId: 5)
        #expect(rc.err == 0)
        #expect(tree.getNode("/e1") == nil && tree.getNode("/e2") == nil)
        #expect(tree.ephemeralCount == 0)
    }

    /// Apache's killSession deletes the txn's paths and then any other
    /// ephemeral the session still owns locally (logging a warning).
    @Test func closeSessionAlsoDeletesLocalEphemeralsMissingFromTheList() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/e1", ephemeral: true)), zxid: 2, clientId: 5)
        apply(tree, .create(createTxn("/e2", ephemeral: true)), zxid: 3, clientId: 5)
        apply(tree, .closeSession(paths: ["/e1"]), zxid: 4, clientId: 5)
        #expect(tree.getNode("/e1") == nil)
        #expect(tree.getNode("/e2") == nil)
        #expect(tree.ephemeralCount == 0)
    }

    // MARK: multi

    @Test func successfulMultiAppliesEverySubTxnInOrder() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/old", [0])), zxid: 1)
        let rc = apply(tree, .multi([
            .create(createTxn("/m1", [0x78])),
            .create2(createTxn("/m2", [])),
            .check(path: "/m1", version: 1),
            .setData(SetDataTxn(path: "/m1", data: [0x79], version: 1)),
            .delete(path: "/old"),
        ]), zxid: 0x2c, time: 42)
        #expect(rc.err == 0)
        #expect(rc.type == 14)
        #expect(rc.multiResult.map(\.type) == [1, 15, 13, 5, 2])
        #expect(rc.multiResult.map(\.err) == [0, 0, 0, 0, 0])
        #expect(rc.multiResult.map(\.path) == ["/m1", "/m2", "/m1", "/m1", "/old"])
        #expect(rc.multiResult.allSatisfy { $0.zxid == 0x2c && $0.clientId == 0x42 && $0.cxid == 7 })
        #expect(rc.multiResult[1].stat?.czxid == 0x2c)
        #expect(rc.multiResult[3].stat?.version == 1)
        #expect(try tree.getData("/m1", watcher: nil).0 == [0x79])
        #expect(tree.statOf("/m1")!.mtime == 42)
        #expect(tree.getNode("/old") == nil)
        #expect(tree.lastProcessedZxid == 0x2c)
    }

    /// §11.2 failed multi [delete /m2, check /m1 v7, create /m3]: the log holds
    /// the real delete, ErrorTxn{-103}, ErrorTxn{-2}; nothing is applied.
    @Test func failedMultiAppliesNothing() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/m1")), zxid: 1)
        apply(tree, .create(createTxn("/m2")), zxid: 2)
        let rootBefore = tree.statOf("/")
        let rc = apply(tree, .multi([.delete(path: "/m2"), .error(-103), .error(-2)]), zxid: 0x2d)
        #expect(tree.getNode("/m2") != nil)
        #expect(tree.statOf("/") == rootBefore)
        #expect(rc.multiResult.map(\.err) == [0, -103, -2])
        #expect(rc.multiResult.map(\.type) == [-1, -1, -1])
        #expect(rc.err == -103)  // the first non-zero sub-error
        #expect(tree.lastProcessedZxid == 0x2d)
    }

    @Test func failedMultiDoesNotApplyCreatesSetDataOrDeletes() throws {
        let tree = DataTree()
        apply(tree, .create(createTxn("/a", [1])), zxid: 1)
        let rc = apply(tree, .multi([
            .create(createTxn("/n")),
            .setData(SetDataTxn(path: "/a", data: [2], version: 1)),
            .delete(path: "/a"),
            .error(-110),
        ]), zxid: 2)
        #expect(rc.multiResult.map(\.err) == [0, 0, 0, -110])
        #expect(tree.getNode("/n") == nil)
        #expect(try tree.getData("/a", watcher: nil).0 == [1])
        #expect(tree.statOf("/a")!.version == 0)
        #expect(tree.getNode("/")!.stat.cversion == 1)
    }

    /// Apache maps a non-error sub-txn that comes after the first error to
    /// ErrorTxn{RUNTIMEINCONSISTENCY (-2)}, and only the ones before it to 0.
    @Test func failedMultiReportsMinusTwoForOpsAfterTheFailure() throws {
        let tree = DataTree()
        let rc = apply(tree, .multi([.create(createTxn("/x")), .error(-101), .create(createTxn("/y"))]), zxid: 3)
        #expect(rc.multiResult.map(\.err) == [0, -101, -2])
        #expect(rc.err == -101)
        #expect(tree.getNode("/x") == nil && tree.getNode("/y") == nil)
    }

    /// Without an error sub-record the ops are applied one by one; an op that
    /// fails at apply time does not roll back the others (as in Apache).
    @Test func multiWithoutErrorRecordAppliesEachOpIndependently() throws {
        let tree = DataTree()
        let rc = apply(tree, .multi([.create(createTxn("/n1")), .create(createTxn("/nope/x")), .create(createTxn("/n2"))]), zxid: 5)
        #expect(rc.multiResult.map(\.err) == [0, -101, 0])
        #expect(rc.err == -101)
        #expect(tree.getNode("/n1") != nil && tree.getNode("/n2") != nil)
    }

    @Test func emptyMultiSucceedsAndConsumesTheZxid() {
        let tree = DataTree()
        let rc = apply(tree, .multi([]), zxid: 6)
        #expect(rc.err == 0 && rc.multiResult.isEmpty && rc.type == 14)
        #expect(tree.lastProcessedZxid == 6)
    }

    @Test func subTxnsShareTheMultiZxid() throws {
        let tree = DataTree()
        apply(tree, .multi([.create(createTxn("/a")), .create(createTxn("/a/b")), .create(createTxn("/a/c"))]), zxid: 11, time: 99)
        #expect(tree.statOf("/a")!.czxid == 11)
        #expect(tree.statOf("/a")!.pzxid == 11)
        #expect(tree.statOf("/a/c")!.ctime == 99)
        #expect(tree.getNode("/a")!.stat.cversion == 2)
    }
}
