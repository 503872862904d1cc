// Znode operations against a real server: Stat bookkeeping, error codes,
// sequential names, containers/TTL, multi atomicity and pipelining.
import Testing
import ZKClient
import ZKJute

@Suite struct NodeTests {
    @Test func createGetSetDeleteWithStats() async throws {
        try await withServer { server in
            let zk = try await server.client()
            #expect(try await zk.create("/crud", data: bytes("hello")) == "/crud")
            let (data, stat) = try await zk.getData("/crud")
            #expect(data == bytes("hello"))
            #expect(stat.version == 0 && stat.cversion == 0 && stat.aversion == 0)
            #expect(stat.dataLength == 5 && stat.numChildren == 0 && stat.ephemeralOwner == 0)
            #expect(stat.czxid == stat.mzxid && stat.pzxid == stat.czxid && stat.ctime == stat.mtime && stat.ctime > 0)
            #expect(try await zk.exists("/crud") == stat)

            let s1 = try await zk.setData("/crud", data: bytes("world!"), version: 0)
            #expect(s1.version == 1 && s1.dataLength == 6 && s1.czxid == stat.czxid && s1.mzxid > stat.mzxid)
            await #expect(throws: KeeperCode.badVersion) { try await zk.setData("/crud", data: [], version: 0) }

            let (childPath, childStat) = try await zk.create2("/crud/child", data: nil)
            #expect(childPath == "/crud/child")
            #expect(childStat.czxid > s1.mzxid && childStat.dataLength == 0)
            // a null buffer stays null, an empty one stays empty
            #expect(try await zk.getData("/crud/child").data == nil)
            try await zk.create("/crud/empty", data: [])
            #expect(try await zk.getData("/crud/empty").data == [])

            let (children, parent) = try await zk.getChildren2("/crud")
            #expect(Set(children) == ["child", "empty"])
            #expect(try await Set(zk.getChildren("/crud")) == ["child", "empty"])
            #expect(parent.numChildren == 2 && parent.cversion == 2 && parent.version == 1)
            #expect(parent.pzxid > childStat.czxid && parent.mzxid == s1.mzxid)

            await #expect(throws: KeeperCode.nodeExists) { try await zk.create("/crud") }
            await #expect(throws: KeeperCode.noNode) { try await zk.create("/missing/child") }
            await #expect(throws: KeeperCode.notEmpty) { try await zk.delete("/crud") }
            await #expect(throws: KeeperCode.badVersion) { try await zk.delete("/crud/child", version: 3) }
            await #expect(throws: KeeperCode.noNode) { try await zk.getData("/nope") }
            await #expect(throws: KeeperCode.badArguments) { try await zk.create("/crud/") }
            await #expect(throws: KeeperCode.invalidACL) { try await zk.create("/noacl", acl: []) }
            #expect(try await zk.exists("/nope") == nil)

            try await zk.delete("/crud/child", version: 0)
            try await zk.delete("/crud/empty")
            let afterDeletes = try #require(try await zk.exists("/crud"))
            // cversion counts deletes too; pzxid moves to the last delete
            #expect(afterDeletes.numChildren == 0 && afterDeletes.cversion == 4 && afterDeletes.pzxid > parent.pzxid)
            try await zk.delete("/crud", version: 1)
            #expect(try await zk.exists("/crud") == nil)
        }
    }

    @Test func aclsSyncAndCounts() async throws {
        try await withServer { server in
            let zk = try await server.client()
            try await zk.create("/acl", data: bytes("x"))
            let (acl, stat) = try await zk.getACL("/acl")
            #expect(acl == ACL.openACLUnsafe && stat.aversion == 0)
            let s = try await zk.setACL("/acl", acl: ACL.readACLUnsafe, version: 0)
            #expect(s.aversion == 1 && s.version == 0)
            #expect(try await zk.getACL("/acl").acl == ACL.readACLUnsafe)
            await #expect(throws: KeeperCode.noAuth) { try await zk.setData("/acl", data: []) }
            await #expect(throws: KeeperCode.noAuth) { try await zk.setACL("/acl", acl: ACL.openACLUnsafe) }
            #expect(try await zk.getData("/acl").data == bytes("x"))

            try await zk.create("/count")
            try await zk.create("/count/a")
            try await zk.create("/count/a/b")
            try await zk.create("/count/c")
            #expect(try await zk.getAllChildrenNumber("/count") == 3)
            #expect(try await zk.sync("/count") == "/count")
            let me = try await zk.whoAmI()
            #expect(me.contains(ClientInfo(authScheme: "ip", user: "127.0.0.1")))
        }
    }

    @Test func sequentialNamesCountCreatesOnly() async throws {
        try await withServer { server in
            let zk = try await server.client()
            try await zk.create("/seq")
            var names: [String] = []
            for _ in 0..<3 { names.append(try await zk.create("/seq/n-", mode: .persistentSequential)) }
            #expect(names == ["/seq/n-0000000000", "/seq/n-0000000001", "/seq/n-0000000002"])
            try await zk.delete("/seq/n-0000000000")
            // the counter is the parent's create count, so a freed number is not reused
            #expect(try await zk.create("/seq/n-", mode: .persistentSequential) == "/seq/n-0000000003")
            #expect(try await zk.create("/seq/e-", mode: .ephemeralSequential) == "/seq/e-0000000004")
            let children = try await zk.getChildren("/seq").sorted()
            #expect(children == ["e-0000000004", "n-0000000001", "n-0000000002", "n-0000000003"])
            #expect(try await zk.getEphemerals("/seq") == ["/seq/e-0000000004"])
        }
    }

    @Test func containerAndTTLNodes() async throws {
        try await withServer(config: ["extendedTypesEnabled": "true"]) { server in
            let zk = try await server.client()
            let (path, stat) = try await zk.createContainer("/box", data: bytes("c"))
            #expect(path == "/box" && stat.ephemeralOwner == 0 && stat.dataLength == 1)
            let (ttlPath, ttlStat) = try await zk.createTTL("/ttl-", mode: .persistentSequentialWithTTL, ttl: 60_000)
            #expect(ttlPath == "/ttl-0000000001" && ttlStat.ephemeralOwner == 0)
            await #expect(throws: KeeperCode.badArguments) { try await zk.createTTL("/ttl0", ttl: 0) }
            await #expect(throws: KeeperCode.badArguments) { try await zk.createTTL("/ttl1", mode: .persistent, ttl: 1000) }
            // TTL flags need the TTL opcode
            await #expect(throws: KeeperCode.badArguments) { try await zk.create("/ttl2", mode: .persistentWithTTL) }
        }
    }

    @Test func multiIsAtomicWithPerOpResults() async throws {
        try await withServer { server in
            let zk = try await server.client()
            let ok = try await zk.multi([
                .create(path: "/m1", data: bytes("x")),
                .create(path: "/m2"),
                .check(path: "/m1", version: 0),
                .setData(path: "/m1", data: bytes("y"), version: 0),
            ])
            #expect(ok.count == 4)
            #expect(ok[0] == .create(path: "/m1") && ok[1] == .create(path: "/m2") && ok[2] == .check)
            guard case .setData(let s) = ok[3] else { Issue.record("expected setData, got \(ok[3])"); return }
            #expect(s.version == 1 && s.dataLength == 1)

            let before = try await zk.exists("/m2")
            let failed = try await zk.multi([
                .delete(path: "/m2"),
                .check(path: "/m1", version: 7),
                .create(path: "/m3"),
            ])
            #expect(failed == [.error(0), .error(KeeperCode.badVersion.rawValue), .error(KeeperCode.runtimeInconsistency.rawValue)])
            // nothing of the failed transaction is visible
            #expect(try await zk.exists("/m2") == before)
            #expect(try await zk.exists("/m3") == nil)
            #expect(try await zk.getData("/m1").data == bytes("y"))

            let reads = try await zk.multiRead([.getData(path: "/m1"), .getChildren(path: "/"), .getData(path: "/absent")])
            #expect(reads.count == 3)
            guard case .getData(let d, let st) = reads[0] else { Issue.record("expected getData, got \(reads[0])"); return }
            #expect(d == bytes("y") && st.version == 1)
            guard case .getChildren(let kids) = reads[1] else { Issue.record("expected getChildren, got \(reads[1])"); return }
            #expect(Set(kids).isSuperset(of: ["m1", "m2", "zookeeper"]))
            #expect(reads[2] == .error(KeeperCode.noNode.rawValue))
        }
    }

    @Test func thousandPipelinedCreatesCompleteInOrder() async throws {
        try await withServer { server in
            let zk = try await server.client()
            try await zk.create("/pipe")
            let count = 1000
            // all requests are on the wire before the first reply is awaited
            let pending = (0..<count).map { i in
                zk.submit(opcode: OpCode.create.rawValue,
                          body: CreateRequest(path: "/pipe/n-", data: bytes("\(i)"), acl: ACL.openACLUnsafe,
                                              flags: CreateMode.persistentSequential.rawValue).serialized())
            }
            var lastXid: Int32 = 0
            var lastZxid: Int64 = 0
            for (i, p) in pending.enumerated() {
                let (header, body) = try await p.get()
                #expect(header.err == 0)
                let path = try CreateResponse.decode(body).path
                // the server applied them in send order, and replies matched xids in order
                #expect(path == "/pipe/n-" + String(repeating: "0", count: 10 - String(i).count) + String(i))
                #expect(header.xid > lastXid && header.zxid > lastZxid)
                lastXid = header.xid
                lastZxid = header.zxid
            }
            #expect(try await zk.getAllChildrenNumber("/pipe") == Int32(count))
            #expect(try await zk.getData("/pipe/n-0000000999").data == bytes("999"))

            // the typed API pipelines too when called concurrently
            try await zk.create("/pipe2")
            let created = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<200 { group.addTask { try await zk.create("/pipe2/c\(i)") } }
                var all: Set<String> = []
                for try await p in group { all.insert(p) }
                return all
            }
            #expect(created == Set((0..<200).map { "/pipe2/c\($0)" }))
            #expect(try await zk.getChildren2("/pipe2").stat.numChildren == 200)
        }
    }

    @Test func rawSendOfUnknownOpcode() async throws {
        try await withServer { server in
            let zk = try await server.client()
            let events = EventLog.recording(zk)
            let (header, body) = try await zk.send(opcode: 200)
            #expect(header.err == KeeperCode.unimplemented.rawValue && body.readableBytes == 0)
            // the server hangs up after UNIMPLEMENTED; the session survives on a new connection
            _ = try await events.nextState(.disconnected)
            _ = try await events.nextState(.syncConnected)
            #expect(try await zk.create("/after") == "/after")
        }
    }
}
