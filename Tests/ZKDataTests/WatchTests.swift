// Watch registration and triggering (wire-protocol.md §9.2–§9.6; DataTree and
// WatchManager in Apache ZooKeeper), including the ACL passed with each event (§9.4).
import Testing
import ZKData
import ZKJute

@Suite struct StandardWatchTests {
    @Test func dataWatchFiresOnceOnSetData() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/a", acl: digestACL, zxid: 1)
        _ = try tree.getData("/a", watcher: w)
        _ = try tree.setData("/a", data: [1], version: 1, zxid: 2, time: 0)
        _ = try tree.setData("/a", data: [2], version: 2, zxid: 3, time: 0)
        #expect(w.received == [.init(type: .nodeDataChanged, path: "/a", acl: digestACL)])
        #expect(w.states == [KeeperState.syncConnected.rawValue])
        #expect(tree.dataWatches.watchCount == 0)
    }

    @Test func getDataOnMissingNodeRegistersNothing() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        #expect(throws: KeeperCode.noNode) { try tree.getData("/x", watcher: w) }
        #expect(throws: KeeperCode.noNode) { try tree.getChildren("/x", watcher: w) }
        try tree.create("/x", zxid: 1)
        try tree.create("/x/y", zxid: 2)
        #expect(w.events == [])
        #expect(tree.dataWatches.watchCount == 0 && tree.childWatches.watchCount == 0)
    }

    @Test func childWatchFiresOnceWithTheParentsACL() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/p", acl: digestACL, zxid: 1)
        _ = try tree.getChildren("/p", watcher: w)
        try tree.create("/p/a", acl: ipACL, zxid: 2)
        try tree.create("/p/b", zxid: 3)
        #expect(w.received == [.init(type: .nodeChildrenChanged, path: "/p", acl: digestACL)])
    }

    @Test func childWatchIsNotFiredBySetDataOfTheNodeOrGrandchildren() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/p", zxid: 1)
        try tree.create("/p/a", zxid: 2)
        _ = try tree.getChildren("/p", watcher: w)
        _ = try tree.setData("/p", data: [1], version: 1, zxid: 3, time: 0)
        _ = try tree.setData("/p/a", data: [1], version: 1, zxid: 4, time: 0)
        try tree.create("/p/a/g", zxid: 5)
        #expect(w.events == [])
        try tree.deleteNode("/p/a/g", zxid: 6)
        try tree.deleteNode("/p/a", zxid: 7)
        #expect(w.events == [Pair(.nodeChildrenChanged, "/p")])
    }

    @Test func existsWatchOnMissingNodeFiresNodeCreatedWithTheNewNodesACL() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        #expect(throws: KeeperCode.noNode) { try tree.statNode("/nope", watcher: w) }
        #expect(tree.dataWatches.watchCount == 1)
        try tree.create("/nope", acl: ipACL, zxid: 1)
        try tree.deleteNode("/nope", zxid: 2)
        try tree.create("/nope", zxid: 3)
        #expect(w.received == [.init(type: .nodeCreated, path: "/nope", acl: ipACL)])
    }

    @Test func existsWatchOnExistingNodeFiresOnChangeAndDelete() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/a", zxid: 1)
        _ = try tree.statNode("/a", watcher: w)
        try tree.deleteNode("/a", zxid: 2)
        #expect(w.events == [Pair(.nodeDeleted, "/a")])
    }

    @Test func deleteFiresNodeDeletedOnceToAConnectionWithDataAndChildWatches() throws {
        let tree = DataTree()
        let w = RecordingWatcher("both")
        let c = RecordingWatcher("child-only")
        try tree.create("/d", acl: digestACL, zxid: 1)
        _ = try tree.getData("/d", watcher: w)
        _ = try tree.getChildren("/d", watcher: w)
        _ = try tree.getChildren("/d", watcher: c)
        try tree.deleteNode("/d", zxid: 2)
        #expect(w.received == [.init(type: .nodeDeleted, path: "/d", acl: digestACL)])
        #expect(c.received == [.init(type: .nodeDeleted, path: "/d", acl: digestACL)])
        #expect(tree.dataWatches.watchCount == 0 && tree.childWatches.watchCount == 0)
    }

    @Test func rootChildWatchSeesTopLevelCreatesAndDeletes() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        _ = try tree.getChildren("/", watcher: w)
        try tree.create("/r", zxid: 1)
        #expect(w.received == [.init(type: .nodeChildrenChanged, path: "/", acl: ACL.openACLUnsafe)])
        _ = try tree.getChildren("/", watcher: w)
        try tree.deleteNode("/r", zxid: 2)
        #expect(w.events == [Pair(.nodeChildrenChanged, "/"), Pair(.nodeChildrenChanged, "/")])
    }

    @Test func oneConnectionGetsOneEventPerTrigger() throws {
        let tree = DataTree()
        let w1 = RecordingWatcher("1"), w2 = RecordingWatcher("2")
        try tree.create("/a", zxid: 1)
        _ = try tree.getData("/a", watcher: w1)
        _ = try tree.getData("/a", watcher: w1)
        _ = try tree.statNode("/a", watcher: w1)
        _ = try tree.getData("/a", watcher: w2)
        #expect(tree.dataWatches.watchCount == 2)
        _ = try tree.setData("/a", data: nil, version: 1, zxid: 2, time: 0)
        #expect(w1.events == [Pair(.nodeDataChanged, "/a")])
        #expect(w2.events == [Pair(.nodeDataChanged, "/a")])
    }

    @Test func setACLAndCheckFireNothing() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/a", zxid: 1)
        _ = try tree.getData("/a", watcher: w)
        _ = try tree.getChildren("/a", watcher: w)
        _ = try tree.setACL("/a", acl: digestACL, version: 1)
        apply(tree, .check(path: "/a", version: 1), zxid: 2)
        apply(tree, .error(-110), zxid: 3)
        #expect(w.events == [])
    }
}

@Suite struct EventOrderTests {
    @Test func createFiresNodeCreatedBeforeParentChildrenChanged() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/p", acl: digestACL, zxid: 1)
        #expect(throws: KeeperCode.noNode) { try tree.statNode("/p/c", watcher: w) }
        _ = try tree.getChildren("/p", watcher: w)
        try tree.create("/p/c", acl: ipACL, zxid: 2)
        #expect(w.received == [
            .init(type: .nodeCreated, path: "/p/c", acl: ipACL),
            .init(type: .nodeChildrenChanged, path: "/p", acl: digestACL),
        ])
    }

    @Test func deleteFiresNodeDeletedBeforeParentChildrenChanged() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/p", acl: digestACL, zxid: 1)
        try tree.create("/p/c", acl: ipACL, zxid: 2)
        _ = try tree.getData("/p/c", watcher: w)
        _ = try tree.getChildren("/p", watcher: w)
        try tree.deleteNode("/p/c", zxid: 3)
        #expect(w.received == [
            .init(type: .nodeDeleted, path: "/p/c", acl: ipACL),
            .init(type: .nodeChildrenChanged, path: "/p", acl: digestACL),
        ])
    }

    @Test func multiTriggersPerSubOpInOrder() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        _ = try tree.getChildren("/", watcher: w)
        #expect(throws: KeeperCode.noNode) { try tree.statNode("/m1", watcher: w) }
        #expect(throws: KeeperCode.noNode) { try tree.statNode("/m2", watcher: w) }
        apply(tree, .multi([.create(createTxn("/m1")), .create(createTxn("/m2"))]), zxid: 5)
        #expect(w.events == [Pair(.nodeCreated, "/m1"), Pair(.nodeChildrenChanged, "/"), Pair(.nodeCreated, "/m2")])
    }

    @Test func failedMultiTriggersNothing() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        _ = try tree.getChildren("/", watcher: w)
        #expect(throws: KeeperCode.noNode) { try tree.statNode("/m1", watcher: w) }
        apply(tree, .multi([.create(createTxn("/m1")), .error(-110)]), zxid: 5)
        #expect(w.events == [])
    }
}

@Suite struct PersistentWatchTests {
    @Test func persistentWatchFiresRepeatedlyForTheNodeAndItsChildrenList() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        tree.addWatch("/p", watcher: w, mode: .persistent)
        try tree.create("/p", acl: digestACL, zxid: 1)
        _ = try tree.setData("/p", data: [1], version: 1, zxid: 2, time: 0)
        _ = try tree.setData("/p", data: [2], version: 2, zxid: 3, time: 0)
        try tree.create("/p/c", acl: ipACL, zxid: 4)
        _ = try tree.setData("/p/c", data: [1], version: 1, zxid: 5, time: 0)  // not recursive: nothing
        try tree.create("/p/c/g", zxid: 6)                                     // grandchild: nothing
        try tree.deleteNode("/p/c/g", zxid: 7)
        try tree.deleteNode("/p/c", zxid: 8)
        try tree.deleteNode("/p", zxid: 9)
        try tree.create("/p", zxid: 10)
        #expect(w.received == [
            .init(type: .nodeCreated, path: "/p", acl: digestACL),
            .init(type: .nodeDataChanged, path: "/p", acl: digestACL),
            .init(type: .nodeDataChanged, path: "/p", acl: digestACL),
            .init(type: .nodeChildrenChanged, path: "/p", acl: digestACL),
            .init(type: .nodeChildrenChanged, path: "/p", acl: digestACL),
            .init(type: .nodeDeleted, path: "/p", acl: digestACL),
            .init(type: .nodeCreated, path: "/p", acl: ACL.openACLUnsafe),
        ])
        #expect(tree.dataWatches.watchCount == 1 && tree.childWatches.watchCount == 1)
    }

    @Test func recursiveWatchFiresForDescendantsButNeverChildrenChanged() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        tree.addWatch("/r", watcher: w, mode: .persistentRecursive)
        try tree.create("/r", zxid: 1)
        try tree.create("/r/a", acl: ipACL, zxid: 2)
        try tree.create("/r/a/b", acl: digestACL, zxid: 3)
        _ = try tree.setData("/r/a/b", data: [1], version: 1, zxid: 4, time: 0)
        _ = try tree.setData("/r", data: [1], version: 1, zxid: 5, time: 0)
        try tree.deleteNode("/r/a/b", zxid: 6)
        #expect(w.received == [
            .init(type: .nodeCreated, path: "/r", acl: ACL.openACLUnsafe),
            .init(type: .nodeCreated, path: "/r/a", acl: ipACL),
            .init(type: .nodeCreated, path: "/r/a/b", acl: digestACL),
            .init(type: .nodeDataChanged, path: "/r/a/b", acl: digestACL),
            .init(type: .nodeDataChanged, path: "/r", acl: ACL.openACLUnsafe),
            .init(type: .nodeDeleted, path: "/r/a/b", acl: digestACL),
        ])
    }

    @Test func recursiveWatchIgnoresSiblingsSharingAPrefix() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        tree.addWatch("/r", watcher: w, mode: .persistentRecursive)
        try tree.create("/rx", zxid: 1)
        try tree.create("/rx/y", zxid: 2)
        try tree.create("/other", zxid: 3)
        #expect(w.events == [])
    }

    @Test func recursiveWatchOnRootSeesEverything() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        tree.addWatch("/", watcher: w, mode: .persistentRecursive)
        try tree.create("/a", zxid: 1)
        try tree.create("/a/b", zxid: 2)
        _ = try tree.setData("/zookeeper/config", data: [1], version: -1, zxid: 3, time: 0)
        #expect(w.received == [
            .init(type: .nodeCreated, path: "/a", acl: ACL.openACLUnsafe),
            .init(type: .nodeCreated, path: "/a/b", acl: ACL.openACLUnsafe),
            .init(type: .nodeDataChanged, path: "/zookeeper/config", acl: ACL.readACLUnsafe),
        ])
    }

    @Test func standardWatchesAtAncestorsDoNotFireForDescendants() throws {
        let tree = DataTree()
        let r = RecordingWatcher("recursive"), s = RecordingWatcher("standard")
        try tree.create("/a", zxid: 1)
        tree.addWatch("/zzz", watcher: r, mode: .persistentRecursive)  // makes the trigger walk parents
        _ = try tree.getData("/a", watcher: s)
        _ = try tree.getChildren("/a", watcher: s)
        try tree.create("/a/b", zxid: 2)
        try tree.create("/a/b/c", zxid: 3)
        _ = try tree.setData("/a/b/c", data: nil, version: 1, zxid: 4, time: 0)
        // only the direct NodeChildrenChanged of /a; the data watch on /a is still armed
        #expect(s.events == [Pair(.nodeChildrenChanged, "/a")])
        #expect(tree.dataWatches.watchCount == 2)
        #expect(r.events == [])
    }

    @Test func recursiveAndStandardOnTheSameConnectionDeliverOnce() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/r", zxid: 1)
        try tree.create("/r/a", zxid: 2)
        tree.addWatch("/r", watcher: w, mode: .persistentRecursive)
        _ = try tree.getData("/r/a", watcher: w)
        #expect(tree.dataWatches.watchCount == 2)
        _ = try tree.setData("/r/a", data: nil, version: 1, zxid: 3, time: 0)
        #expect(w.events == [Pair(.nodeDataChanged, "/r/a")])
        // the one-shot watch at /r/a was consumed; the recursive one remains
        #expect(tree.dataWatches.watchCount == 1)
        _ = try tree.setData("/r/a", data: nil, version: 2, zxid: 4, time: 0)
        #expect(w.events == [Pair(.nodeDataChanged, "/r/a"), Pair(.nodeDataChanged, "/r/a")])
    }

    @Test func registeringAgainReplacesTheMode() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/a", zxid: 1)
        tree.addWatch("/a", watcher: w, mode: .persistent)
        _ = try tree.getData("/a", watcher: w)  // back to a one-shot data watch
        _ = try tree.setData("/a", data: nil, version: 1, zxid: 2, time: 0)
        _ = try tree.setData("/a", data: nil, version: 2, zxid: 3, time: 0)
        #expect(w.events == [Pair(.nodeDataChanged, "/a")])
        // the child table still has the persistent mode
        try tree.create("/a/b", zxid: 4)
        try tree.create("/a/c", zxid: 5)
        #expect(w.events == [Pair(.nodeDataChanged, "/a"), Pair(.nodeChildrenChanged, "/a"), Pair(.nodeChildrenChanged, "/a")])
    }

    @Test func replacingARecursiveWatchStopsDescendantEvents() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/r", zxid: 1)
        tree.addWatch("/r", watcher: w, mode: .persistentRecursive)
        tree.addWatch("/r", watcher: w, mode: .persistent)
        try tree.create("/r/a", zxid: 2)
        _ = try tree.setData("/r/a", data: nil, version: 1, zxid: 3, time: 0)
        #expect(w.events == [Pair(.nodeChildrenChanged, "/r")])
    }
}

@Suite struct SetWatchesTests {
    /// §9.5 live example: dataWatches [/m1,/gone], existWatches [/m1,/absent],
    /// childWatches [/,/gone2], relativeZxid 0.
    @Test func firesWhatTheClientMissedInListOrder() throws {
        let tree = DataTree()
        try tree.create("/m1", zxid: 0x2e)
        let w = RecordingWatcher()
        tree.setWatches(relativeZxid: 0, dataWatches: ["/m1", "/gone"], existWatches: ["/m1", "/absent"],
                        childWatches: ["/", "/gone2"], persistentWatches: [], persistentRecursiveWatches: [], watcher: w)
        #expect(w.events == [
            Pair(.nodeDataChanged, "/m1"), Pair(.nodeDeleted, "/gone"), Pair(.nodeCreated, "/m1"),
            Pair(.nodeChildrenChanged, "/"), Pair(.nodeDeleted, "/gone2"),
        ])
        // events produced by setWatches are not ACL-filtered
        #expect(w.received.allSatisfy { $0.acl == nil })
        #expect(w.states.allSatisfy { $0 == KeeperState.syncConnected.rawValue })
        // only the exist watch on /absent was registered
        #expect(tree.dataWatches.watchCount == 1 && tree.childWatches.watchCount == 0)
        w.clear()
        try tree.create("/absent", acl: ipACL, zxid: 0x2f)
        #expect(w.received == [.init(type: .nodeCreated, path: "/absent", acl: ipACL)])
    }

    @Test func upToDateWatchesAreRegisteredNotFired() throws {
        let tree = DataTree()
        try tree.create("/m1", zxid: 5)
        let w = RecordingWatcher()
        tree.setWatches(relativeZxid: 5, dataWatches: ["/m1"], existWatches: [], childWatches: ["/", "/m1"],
                        persistentWatches: [], persistentRecursiveWatches: [], watcher: w)
        #expect(w.events == [])
        _ = try tree.setData("/m1", data: nil, version: 1, zxid: 6, time: 0)
        try tree.create("/m1/c", zxid: 7)
        try tree.create("/x", zxid: 8)
        #expect(w.events == [Pair(.nodeDataChanged, "/m1"), Pair(.nodeChildrenChanged, "/m1"), Pair(.nodeChildrenChanged, "/")])
    }

    @Test func comparesMzxidForDataAndPzxidForChildren() throws {
        let tree = DataTree()
        try tree.create("/a", zxid: 5)
        try tree.create("/a/c", zxid: 9)  // pzxid of /a: 9, mzxid of /a: 5
        let w = RecordingWatcher()
        tree.setWatches(relativeZxid: 7, dataWatches: ["/a"], existWatches: [], childWatches: ["/a"],
                        persistentWatches: [], persistentRecursiveWatches: [], watcher: w)
        #expect(w.events == [Pair(.nodeChildrenChanged, "/a")])
        #expect(tree.dataWatches.watchCount == 1)
    }

    @Test func persistentListsRegisterInBothTablesWithoutFiring() throws {
        let tree = DataTree()
        try tree.create("/p", zxid: 100)
        let w = RecordingWatcher()
        tree.setWatches(relativeZxid: 0, dataWatches: [], existWatches: [], childWatches: [],
                        persistentWatches: ["/p", "/missing"], persistentRecursiveWatches: ["/q"], watcher: w)
        #expect(w.events == [])
        #expect(tree.dataWatches.watchCount == 3 && tree.childWatches.watchCount == 3)
        try tree.create("/p/c", zxid: 101)
        try tree.create("/q", zxid: 102)
        try tree.create("/q/x", zxid: 103)
        _ = try tree.setData("/p", data: nil, version: 1, zxid: 104, time: 0)
        _ = try tree.setData("/p", data: nil, version: 2, zxid: 105, time: 0)
        try tree.create("/missing", zxid: 106)
        #expect(w.events == [
            Pair(.nodeChildrenChanged, "/p"), Pair(.nodeCreated, "/q"), Pair(.nodeCreated, "/q/x"),
            Pair(.nodeDataChanged, "/p"), Pair(.nodeDataChanged, "/p"), Pair(.nodeCreated, "/missing"),
        ])
    }
}

@Suite struct WatchBookkeepingTests {
    @Test func containsWatcherAndRemoveWatchByType() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/a", zxid: 1)
        _ = try tree.getData("/a", watcher: w)
        #expect(tree.containsWatcher("/a", type: .data, watcher: w))
        #expect(!tree.containsWatcher("/a", type: .children, watcher: w))
        #expect(tree.containsWatcher("/a", type: .any, watcher: w))
        #expect(!tree.removeWatch("/a", type: .children, watcher: w))
        #expect(tree.removeWatch("/a", type: .data, watcher: w))
        #expect(!tree.containsWatcher("/a", type: .data, watcher: w))
        #expect(!tree.removeWatch("/a", type: .data, watcher: w))
        _ = try tree.setData("/a", data: nil, version: 1, zxid: 2, time: 0)
        #expect(w.events == [])
    }

    @Test func removeWatchAnyRemovesBothTables() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/a", zxid: 1)
        _ = try tree.getChildren("/a", watcher: w)
        #expect(tree.containsWatcher("/a", type: .children, watcher: w))
        #expect(tree.containsWatcher("/a", type: .any, watcher: w))
        #expect(tree.removeWatch("/a", type: .any, watcher: w))
        #expect(!tree.containsWatcher("/a", type: .any, watcher: w))
        #expect(!tree.removeWatch("/a", type: .any, watcher: w))
        try tree.create("/a/b", zxid: 2)
        #expect(w.events == [])
    }

    @Test func firedOneShotWatchIsGone() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        try tree.create("/a", zxid: 1)
        _ = try tree.getData("/a", watcher: w)
        _ = try tree.setData("/a", data: nil, version: 1, zxid: 2, time: 0)
        #expect(!tree.containsWatcher("/a", type: .data, watcher: w))
        #expect(!tree.removeWatch("/a", type: .data, watcher: w))
    }

    @Test func persistentAndRecursiveWatchesCountForEveryType() throws {
        let tree = DataTree()
        let w = RecordingWatcher()
        tree.addWatch("/p", watcher: w, mode: .persistent)
        tree.addWatch("/r", watcher: w, mode: .persistentRecursive)
        for t in [WatcherType.children, .data, .any] {
            #expect(tree.containsWatcher("/p", type: t, watcher: w))
            #expect(tree.containsWatcher("/r", type: t, watcher: w))
        }
        #expect(tree.removeWatch("/r", type: .any, watcher: w))
        try tree.create("/r", zxid: 1)
        try tree.create("/r/x", zxid: 2)
        try tree.create("/p", zxid: 3)
        #expect(w.events == [Pair(.nodeCreated, "/p")])
    }

    /// Apache's WatchManager.containsWatcher answers true when any watch is
    /// registered at the path, whoever owns it.
    @Test func containsWatcherLooksAtThePathNotTheOwnerAsApacheDoes() throws {
        let tree = DataTree()
        let w = RecordingWatcher("owner"), other = RecordingWatcher("other")
        try tree.create("/a", zxid: 1)
        _ = try tree.getData("/a", watcher: w)
        #expect(tree.containsWatcher("/a", type: .data, watcher: other))
        // but removal only removes the caller's own watch
        #expect(!tree.removeWatch("/a", type: .data, watcher: other))
        _ = try tree.setData("/a", data: nil, version: 1, zxid: 2, time: 0)
        #expect(w.events == [Pair(.nodeDataChanged, "/a")])
    }

    @Test func removeCnxnDropsEveryWatch() throws {
        let tree = DataTree()
        let w = RecordingWatcher("gone"), keep = RecordingWatcher("keep")
        try tree.create("/a", zxid: 1)
        try tree.create("/b", zxid: 2)
        _ = try tree.getData("/a", watcher: w)
        _ = try tree.getChildren("/b", watcher: w)
        #expect(throws: KeeperCode.noNode) { try tree.statNode("/c", watcher: w) }
        tree.addWatch("/p", watcher: w, mode: .persistent)
        tree.addWatch("/", watcher: w, mode: .persistentRecursive)
        _ = try tree.getData("/a", watcher: keep)
        tree.removeCnxn(w)
        #expect(tree.dataWatches.watcherCount == 1)
        #expect(tree.childWatches.watcherCount == 0)
        #expect(tree.dataWatches.watchCount == 1)
        _ = try tree.setData("/a", data: nil, version: 1, zxid: 3, time: 0)
        try tree.create("/b/x", zxid: 4)
        try tree.create("/c", zxid: 5)
        try tree.create("/p", zxid: 6)
        #expect(w.events == [])
        #expect(keep.events == [Pair(.nodeDataChanged, "/a")])
        for p in ["/a", "/b", "/c", "/p", "/"] {
            #expect(!tree.containsWatcher(p, type: .any, watcher: w), "\(p)")
        }
    }

    @Test func watchManagerCountsAndReports() {
        var m = WatchManager()
        let a = RecordingWatcher("a"), b = RecordingWatcher("b")
        let added = [
            m.addWatch("/x", a),
            m.addWatch("/x", a),                        // same path again: not new
            m.addWatch("/x", a, mode: .persistent),     // re-moded: not new
            m.addWatch("/y", a),
            m.addWatch("/x", b),
        ]
        #expect(added == [true, false, false, true, true])
        #expect(m.watchCount == 3)
        #expect(m.pathCount == 2)
        #expect(m.watcherCount == 2)
        let byPath = Dictionary(uniqueKeysWithValues: m.watchersByPath().map { entry in
            (entry.0, Set(entry.1.map { w in ObjectIdentifier(w) }))
        })
        #expect(byPath == ["/x": [ObjectIdentifier(a), ObjectIdentifier(b)], "/y": [ObjectIdentifier(a)]])
        let byWatcher = Dictionary(uniqueKeysWithValues: m.pathsByWatcher().map { entry in
            (ObjectIdentifier(entry.0), Set(entry.1))
        })
        #expect(byWatcher == [ObjectIdentifier(a): ["/x", "/y"], ObjectIdentifier(b): ["/x"]])
        // /x is persistent for a, standard for b
        let fired = m.triggerWatch("/x", .nodeDataChanged, acl: nil)
        #expect(fired == [ObjectIdentifier(a), ObjectIdentifier(b)])
        #expect(m.watchCount == 2)
        #expect(m.watcherCount == 1)
    }

    @Test func triggerSuppressesAlreadyNotifiedWatchers() {
        var m = WatchManager()
        let a = RecordingWatcher("a"), b = RecordingWatcher("b")
        m.addWatch("/x", a)
        m.addWatch("/x", b)
        let fired = m.triggerWatch("/x", .nodeDeleted, acl: ACL.readACLUnsafe, suppress: [ObjectIdentifier(a)])
        #expect(fired == [ObjectIdentifier(a), ObjectIdentifier(b)])  // both were triggered and removed
        #expect(a.events == [])
        #expect(b.received == [.init(type: .nodeDeleted, path: "/x", acl: ACL.readACLUnsafe)])
        #expect(m.watchCount == 0)
    }
}
