// Sessions across connections: digest auth and NOAUTH, resuming a session by
// id and password, expiry, reconnect with auth replay and setWatches2, failure
// of requests in flight when a connection drops, and pings on an idle session.
import Testing
import ZKClient
import ZKJute

@Suite struct SessionTests {
    @Test func digestAuthAndNoAuth() async throws {
        try await withServer { server in
            let alice = try await server.client()
            try await alice.addAuth(scheme: "digest", auth: bytes("alice:secret"))
            try await alice.create("/secure", data: bytes("top"), acl: ACL.creatorAllACL)
            let (acl, _) = try await alice.getACL("/secure")
            #expect(acl.count == 1 && acl[0].perms == Perms.all && acl[0].id.scheme == "digest")
            #expect(acl[0].id.id.hasPrefix("alice:") && acl[0].id.id != "alice:x")
            let me = try await alice.whoAmI()
            #expect(me.contains(ClientInfo(authScheme: "digest", user: "alice")))

            let anonymous = try await server.client()
            await #expect(throws: KeeperCode.noAuth) { try await anonymous.getData("/secure") }
            await #expect(throws: KeeperCode.noAuth) { try await anonymous.setData("/secure", data: []) }
            await #expect(throws: KeeperCode.noAuth) { try await anonymous.getChildren("/secure") }
            await #expect(throws: KeeperCode.noAuth) { try await anonymous.create("/secure/child") }
            await #expect(throws: KeeperCode.noAuth) { try await anonymous.getACL("/secure") }
            // "auth" ACLs need an authenticated identity
            await #expect(throws: KeeperCode.invalidACL) { try await anonymous.create("/mine", acl: ACL.creatorAllACL) }

            // digest logins always succeed; a wrong password just yields another identity
            let mallory = try await server.client()
            try await mallory.addAuth(scheme: "digest", auth: bytes("alice:guess"))
            await #expect(throws: KeeperCode.noAuth) { try await mallory.getData("/secure") }

            let alice2 = try await server.client()
            try await alice2.addAuth(scheme: "digest", auth: bytes("alice:secret"))
            #expect(try await alice2.getData("/secure").data == bytes("top"))
            try await alice2.create("/secure/child")

            let bogus = try await server.client()
            let bogusEvents = EventLog.recording(bogus)
            await #expect(throws: KeeperCode.authFailed) {
                try await bogus.addAuth(scheme: "no-such-scheme", auth: bytes("x"))
            }
            _ = try await bogusEvents.nextState(.authFailed)
        }
    }

    @Test func sessionResumesOnANewConnectionAndExpiresWhenClosed() async throws {
        try await withServer { server in
            let first = try await server.client()
            let firstEvents = EventLog.recording(first)
            try await first.create("/resume")
            try await first.create("/resume/e", mode: .ephemeral)
            let creds = first.session
            #expect(creds.id != 0 && creds.password.count == 16)

            await first.dropConnection(autoReconnect: false)
            #expect(first.keeperState == .disconnected)
            await #expect(throws: KeeperCode.connectionLoss) { try await first.getData("/resume") }

            let second = try await server.client(session: creds)
            #expect(second.sessionId == creds.id && second.sessionPassword == creds.password)
            #expect(try await second.getEphemerals() == ["/resume/e"])
            #expect(try await second.exists("/resume/e")?.ephemeralOwner == creds.id)

            var wrong = creds
            wrong.password[0] ^= 0xff
            await #expect(throws: KeeperCode.sessionExpired) { _ = try await server.client(session: wrong) }
            let unknown = SessionCredentials(id: creds.id &+ 4242, password: creds.password)
            await #expect(throws: KeeperCode.sessionExpired) { _ = try await server.client(session: unknown) }

            let observer = try await server.client()
            let events = EventLog.recording(observer)
            #expect(try await observer.exists("/resume/e", watch: true) != nil)
            await second.close()
            #expect(try await events.next() == node(.nodeDeleted, "/resume/e"))

            // the original client comes back to a session that no longer exists
            await #expect(throws: KeeperCode.sessionExpired) { try await first.reconnect() }
            _ = try await firstEvents.nextState(.expired)
            #expect(first.keeperState == .expired)
            await #expect(throws: KeeperCode.sessionExpired) { try await first.getData("/resume") }
            await #expect(throws: KeeperCode.sessionExpired) { _ = try await server.client(session: creds) }
        }
    }

    @Test func reconnectReplaysAuthAndReRegistersWatches() async throws {
        try await withServer { server in
            let zk = try await server.client()
            let events = EventLog.recording(zk)
            let writer = try await server.client()
            try await zk.addAuth(scheme: "digest", auth: bytes("bob:pw"))
            try await writer.addAuth(scheme: "digest", auth: bytes("bob:pw"))
            try await zk.create("/rw", data: bytes("v0"), acl: ACL.creatorAllACL)
            try await zk.create("/quiet")
            try await zk.create("/rec")

            _ = try await zk.getData("/rw", watch: true)
            _ = try await zk.getData("/quiet", watch: true)
            #expect(try await zk.exists("/rw/absent", watch: true) == nil)
            _ = try await zk.getChildren("/rw", watch: true)
            try await zk.addWatch("/rec", mode: .persistentRecursive)
            let sessionId = zk.sessionId

            await zk.dropConnection(autoReconnect: false)
            _ = try await events.nextState(.disconnected)
            try await writer.setData("/rw", data: bytes("v1"))
            try await writer.create("/rw/absent")
            try await writer.create("/rec/during")               // missed: persistent watches only resume
            try await zk.reconnect()
            #expect(zk.sessionId == sessionId)
            _ = try await events.nextState(.syncConnected)

            // setWatches2 (relativeZxid = last zxid seen) reports what changed meanwhile
            #expect(try await events.nextNodeEvents(3) == [
                node(.nodeDataChanged, "/rw"),
                node(.nodeCreated, "/rw/absent"),
                node(.nodeChildrenChanged, "/rw"),
            ])
            // and re-registers what did not change
            try await writer.setData("/quiet", data: bytes("now"))
            try await writer.setData("/rec/during", data: bytes("now"))
            try await writer.setData("/rw", data: bytes("v2"))   // its watch was spent on reconnect
            try await writer.create("/rec/late")
            #expect(try await events.nextNodeEvents(3) == [
                node(.nodeDataChanged, "/quiet"),
                node(.nodeDataChanged, "/rec/during"),
                node(.nodeCreated, "/rec/late"),
            ])
            // the digest identity came back with the new connection
            #expect(try await zk.whoAmI().contains(ClientInfo(authScheme: "digest", user: "bob")))
            #expect(try await zk.getData("/rw").data == bytes("v2"))
        }
    }

    @Test func droppedConnectionFailsRequestsInFlightAndReconnects() async throws {
        try await withServer { server in
            let zk = try await server.client()
            let events = EventLog.recording(zk)
            try await zk.create("/drop", data: bytes("d"))
            try await zk.create("/drop/e", mode: .ephemeral)
            let sessionId = zk.sessionId

            let pending = (0..<200).map { _ in
                zk.submit(opcode: OpCode.getData.rawValue, body: GetDataRequest(path: "/drop", watch: false).serialized())
            }
            await zk.dropConnection()
            var answered = 0
            var lost = 0
            for p in pending {
                do {
                    let (header, _) = try await p.get()
                    #expect(header.err == 0)
                    answered += 1
                } catch KeeperCode.connectionLoss {
                    lost += 1
                }
            }
            #expect(answered + lost == 200 && lost > 0)
            _ = try await events.nextState(.disconnected)
            _ = try await events.nextState(.syncConnected)
            #expect(zk.sessionId == sessionId)
            #expect(try await zk.getData("/drop").data == bytes("d"))
            #expect(try await zk.getEphemerals() == ["/drop/e"])
        }
    }

    @Test func connectStringSkipsDeadHosts() async throws {
        try await withServer { server in
            let dead = try TestServer.freePort()
            let zk = try await server.client(connectString: "127.0.0.1:\(dead),\(server.connectString)")
            #expect(zk.hosts.map(\.port) == [dead, server.port])
            let events = EventLog.recording(zk)
            try await zk.create("/multi-host", mode: .ephemeral)
            let sessionId = zk.sessionId
            // the reconnect starts with the next host in the list, the dead one
            await zk.dropConnection()
            _ = try await events.nextState(.disconnected)
            _ = try await events.nextState(.syncConnected)
            #expect(zk.sessionId == sessionId)
            #expect(try await zk.getEphemerals() == ["/multi-host"])
            await #expect(throws: KeeperCode.badArguments) { _ = try await ZooKeeperClient.connect("127.0.0.1:1/chroot") }
        }
    }

    @Test func pingsKeepAnIdleShortSessionAlive() async throws {
        try await withServer { server in
            // tickTime 2000: timeouts are clamped to [4000, 40000]
            let zk = try await server.client(sessionTimeout: 1000)
            #expect(zk.negotiatedTimeout == 4000)
            let long = try await server.client(sessionTimeout: 100_000)
            #expect(long.negotiatedTimeout == 40000)
            let events = EventLog.recording(zk)
            try await zk.create("/idle", mode: .ephemeral)

            try await Task.sleep(for: .seconds(7))
            #expect(await events.all == [.init(type: .none, state: .syncConnected, path: nil)])
            #expect(zk.isConnected)
            #expect(try await long.exists("/idle")?.ephemeralOwner == zk.sessionId)
        }
    }
}
