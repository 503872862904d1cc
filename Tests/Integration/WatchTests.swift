// Watch notifications as a client sees them: one-shot data/exist/child
// watches, persistent and persistent-recursive watches, and the events a
// session's close produces for its ephemerals, all in exact order.
import Testing
import ZKClient
import ZKJute

@Suite struct WatchTests {
    @Test func ephemeralRemovedOnCloseIsSeenByAnotherClient() async throws {
        try await withServer { server in
            let owner = try await server.client()
            let watcher = try await server.client()
            let ownerEvents = EventLog.recording(owner)
            let events = EventLog.recording(watcher)

            try await owner.create("/eph")
            try await owner.create("/eph/node", data: bytes("e"), mode: .ephemeral)
            #expect(try await owner.getEphemerals() == ["/eph/node"])
            #expect(try await owner.getEphemerals("/other") == [])
            let stat = try #require(try await watcher.exists("/eph/node", watch: true))
            #expect(stat.ephemeralOwner == owner.sessionId && owner.sessionId != 0)
            #expect(try await watcher.getChildren("/eph", watch: true) == ["node"])
            await #expect(throws: KeeperCode.noChildrenForEphemerals) { try await owner.create("/eph/node/x") }

            await owner.close()
            #expect(try await events.nextNodeEvents(2) == [node(.nodeDeleted, "/eph/node"), node(.nodeChildrenChanged, "/eph")])
            #expect(try await watcher.exists("/eph/node") == nil)
            #expect(try await watcher.exists("/eph") != nil)

            // the closed client: Closed is its last event and it refuses work
            _ = try await ownerEvents.nextState(.closed)
            #expect(await ownerEvents.all.map(\.state) == [.syncConnected, .closed])
            #expect(owner.keeperState == .closed)
            await #expect(throws: KeeperCode.sessionExpired) { try await owner.getData("/eph") }
        }
    }

    @Test func oneShotWatchesFireOnceInOrder() async throws {
        try await withServer { server in
            let zk = try await server.client()
            let writer = try await server.client()
            let events = EventLog.recording(zk)

            try await zk.create("/w", data: bytes("a"))
            _ = try await zk.getData("/w", watch: true)
            #expect(try await zk.exists("/w/new", watch: true) == nil)
            #expect(try await zk.getChildren("/w", watch: true) == [])
            try await zk.checkWatches("/w", type: .data)
            try await zk.checkWatches("/w", type: .children)
            try await zk.checkWatches("/w/new", type: .data)

            try await writer.setData("/w", data: bytes("b"))
            try await writer.setData("/w", data: bytes("c"))          // data watch already spent
            try await writer.create("/w/new")
            try await writer.create("/w/other")                       // child watch already spent
            try await writer.delete("/w/new")                         // creation watch already spent
            _ = try await zk.exists("/sentinel", watch: true)
            try await writer.create("/sentinel")

            #expect(try await events.nextNodeEvents(4) == [
                node(.nodeDataChanged, "/w"),
                node(.nodeCreated, "/w/new"),
                node(.nodeChildrenChanged, "/w"),
                node(.nodeCreated, "/sentinel"),
            ])
            await #expect(throws: KeeperCode.noWatcher) { try await zk.checkWatches("/w", type: .any) }

            // removeWatches asks the server, then reports the removal locally
            _ = try await zk.getData("/sentinel", watch: true)
            try await zk.removeWatches("/sentinel", type: .data)
            #expect(try await events.next() == node(.dataWatchRemoved, "/sentinel"))
            await #expect(throws: KeeperCode.noWatcher) { try await zk.removeWatches("/sentinel", type: .data) }
            try await writer.setData("/sentinel", data: bytes("no event"))
            _ = try await zk.exists("/sentinel2", watch: true)
            try await writer.create("/sentinel2")
            #expect(try await events.next() == node(.nodeCreated, "/sentinel2"))
        }
    }

    @Test func persistentRecursiveWatchSeesTheSubtree() async throws {
        try await withServer { server in
            let zk = try await server.client()
            let writer = try await server.client()
            let events = EventLog.recording(zk)

            try await zk.create("/r")
            try await zk.addWatch("/r", mode: .persistentRecursive)
            try await writer.create("/r/a")
            try await writer.create("/r/a/b")
            try await writer.setData("/r/a", data: bytes("1"))
            try await writer.setData("/r/a", data: bytes("2"))
            try await writer.create("/r2")                  // a sibling with the same prefix, not a descendant
            try await writer.delete("/r/a/b")
            try await writer.setData("/r", data: bytes("top"))
            // recursive watches never report NodeChildrenChanged
            #expect(try await events.nextNodeEvents(6) == [
                node(.nodeCreated, "/r/a"),
                node(.nodeCreated, "/r/a/b"),
                node(.nodeDataChanged, "/r/a"),
                node(.nodeDataChanged, "/r/a"),
                node(.nodeDeleted, "/r/a/b"),
                node(.nodeDataChanged, "/r"),
            ])
            try await zk.checkWatches("/r", type: .any)
            try await zk.removeWatches("/r", type: .any)
            #expect(try await events.next() == node(.persistentWatchRemoved, "/r"))
            await #expect(throws: KeeperCode.noWatcher) { try await zk.checkWatches("/r", type: .any) }
            try await writer.create("/r/after-removal")
            _ = try await zk.exists("/done", watch: true)
            try await writer.create("/done")
            #expect(try await events.next() == node(.nodeCreated, "/done"))
        }
    }

    @Test func persistentWatchCoversNodeAndChildren() async throws {
        try await withServer { server in
            let zk = try await server.client()
            let writer = try await server.client()
            let events = EventLog.recording(zk)

            try await zk.addWatch("/p", mode: .persistent)     // no existence check
            try await writer.create("/p")
            try await writer.create("/p/c")
            try await writer.create("/p/c/grandchild")         // not watched: below the children
            try await writer.setData("/p", data: bytes("1"))
            try await writer.setData("/p", data: bytes("2"))
            try await writer.delete("/p/c/grandchild")
            try await writer.delete("/p/c")
            try await writer.delete("/p")
            #expect(try await events.nextNodeEvents(6) == [
                node(.nodeCreated, "/p"),
                node(.nodeChildrenChanged, "/p"),
                node(.nodeDataChanged, "/p"),
                node(.nodeDataChanged, "/p"),
                node(.nodeChildrenChanged, "/p"),
                node(.nodeDeleted, "/p"),
            ])
            // still there after firing six times
            try await zk.checkWatches("/p", type: .any)
        }
    }
}
