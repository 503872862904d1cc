// Byte-exact frames from the verified-live examples of wire-protocol.md.
// A frame is int32 length + payload; payloads are built from the records.
import NIOCore
import Testing
import ZKJute

private func frame(_ parts: [UInt8]...) -> [UInt8] {
    let payload = parts.flatMap { $0 }
    return encode { $0.writeJuteInt(Int32(payload.count)) } + payload
}

@Suite struct WireExampleTests {
    /// §4.4 ConnectRequest (new session, timeout 30000) + readOnly=false.
    @Test func connectRequest() throws {
        let doc = hex("0000002d000000000000000000000000000075300000000000000000000000100000000000000000000000000000000000")
        let r = ConnectRequest(timeOut: 30000)
        #expect(frame(encode(r), [0]) == doc)
        var b = buffer(Array(doc[4...]))
        #expect(try ConnectRequest(from: &b) == r)
        #expect(b.readableBytes == 1)
        #expect(try b.readJuteBool() == false)
    }

    /// §4.4 ConnectResponse from Apache 3.8.0.
    @Test func connectResponse() throws {
        let doc = hex("00000025 00000000 00007530 010000057b750000 00000010 41d427ba3af728e2872b08f7131bac4d 00")
        let r = ConnectResponse(protocolVersion: 0, timeOut: 30000, sessionId: 0x0100_0005_7b75_0000,
                                passwd: hex("41d427ba3af728e2872b08f7131bac4d"))
        #expect(frame(encode(r), [0]) == doc)
        var b = buffer(Array(doc[4...]))
        #expect(try ConnectResponse(from: &b) == r)
        #expect(b.readableBytes == 1)
    }

    /// §4.4 invalid-session reply.
    @Test func invalidSessionReply() {
        let r = ConnectResponse(timeOut: 0, sessionId: 0, passwd: [UInt8](repeating: 0, count: 16))
        #expect(frame(encode(r), [0]) == hex("00000025 00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000 00"))
    }

    /// §6.2 ping.
    @Test func ping() {
        #expect(frame(encode(RequestHeader(xid: SpecialXid.ping, type: OpCode.ping.rawValue))) == hex("00000008 fffffffe 0000000b"))
        #expect(frame(encode(ReplyHeader(xid: -2, zxid: 4, err: 0))) == hex("00000010 fffffffe 0000000000000004 00000000"))
    }

    /// §9.1 NodeCreated notification for /nope.
    @Test func notification() throws {
        let doc = hex("00000021 ffffffff ffffffffffffffff 00000000 00000001 00000003 00000005 2f6e6f7065")
        let event = WatcherEvent(type: EventType.nodeCreated.rawValue, state: KeeperState.syncConnected.rawValue, path: "/nope")
        #expect(frame(encode(ReplyHeader(xid: SpecialXid.notification, zxid: -1, err: 0)), encode(event)) == doc)
        var b = buffer(Array(doc[20...]))
        #expect(try WatcherEvent(from: &b) == event)
        #expect(b.readableBytes == 0)
    }

    /// §9.5 setWatches reply and §9.6 addWatch reply.
    @Test func setWatchesAndAddWatchReplies() {
        #expect(frame(encode(ReplyHeader(xid: SpecialXid.setWatches, zxid: 0x2f, err: 0))) == hex("00000010 fffffff8 000000000000002f 00000000"))
        #expect(frame(encode(ReplyHeader(xid: 0x2a, zxid: 0x28, err: 0)), encode(ErrorResponse(err: 0)))
                == hex("00000014 0000002a 0000000000000028 00000000 00000000"))
    }

    /// §10 whoAmI reply.
    @Test func whoAmIReply() throws {
        let doc = hex("00000027 00000025 0000000000000028 00000000 00000001 00000002 6970 00000009 3132372e302e302e31")
        let r = WhoAmIResponse(clientInfo: [ClientInfo(authScheme: "ip", user: "127.0.0.1")])
        #expect(frame(encode(ReplyHeader(xid: 0x25, zxid: 0x28, err: 0)), encode(r)) == doc)
        var b = buffer(Array(doc[20...]))
        #expect(try WhoAmIResponse(from: &b) == r)
        #expect(b.readableBytes == 0)
    }

    /// §10.2 create request, reply, NODEEXISTS reply and create2 reply.
    @Test func createRequestAndReplies() throws {
        let doc = hex("000000330000000100000001000000022f61000000026869000000010000001f00000005776f726c6400000006616e796f6e6500000000")
        let req = CreateRequest(path: "/a", data: Array("hi".utf8), acl: ACL.openACLUnsafe, flags: CreateMode.persistent.rawValue)
        #expect(frame(encode(RequestHeader(xid: 1, type: OpCode.create.rawValue)), encode(req)) == doc)
        var b = buffer(Array(doc[4...]))
        #expect(try RequestHeader(from: &b) == RequestHeader(xid: 1, type: 1))
        #expect(try CreateRequest(from: &b) == req)
        #expect(b.readableBytes == 0)

        #expect(frame(encode(ReplyHeader(xid: 1, zxid: 2, err: 0)), encode(CreateResponse(path: "/a")))
                == hex("00000016 00000001 0000000000000002 00000000 00000002 2f61"))
        #expect(frame(encode(ReplyHeader(xid: 3, zxid: 4, err: KeeperCode.nodeExists.rawValue)))
                == hex("00000010 00000003 0000000000000004 ffffff92"))

        var st = Stat()
        st.czxid = 3; st.mzxid = 3; st.ctime = 0x1a2_00fc_c7aa; st.mtime = 0x1a2_00fc_c7aa; st.pzxid = 3
        let create2 = hex("""
            0000005a 00000002 0000000000000003 00000000 00000002 2f62
            0000000000000003 0000000000000003 000001a200fcc7aa 000001a200fcc7aa 00000000
            00000000 00000000 0000000000000000 00000000 00000000 0000000000000003
            """)
        #expect(frame(encode(ReplyHeader(xid: 2, zxid: 3, err: 0)), encode(Create2Response(path: "/b", stat: st))) == create2)
        var c = buffer(Array(create2[20...]))
        #expect(try Create2Response(from: &c) == Create2Response(path: "/b", stat: st))
        #expect(c.readableBytes == 0)
    }

    /// §10.3 closeSession reply.
    @Test func closeSessionReply() {
        #expect(frame(encode(ReplyHeader(xid: 0x0c, zxid: 6, err: 0))) == hex("00000010 0000000c 0000000000000006 00000000"))
    }

    /// §12.1 digest auth request and replies.
    @Test func authExample() throws {
        let doc = hex("0000001d fffffffc 00000064 00000000 00000006 646967657374 00000003 753a70")
        let p = AuthPacket(type: 0, scheme: "digest", auth: Array("u:p".utf8))
        #expect(frame(encode(RequestHeader(xid: SpecialXid.auth, type: OpCode.auth.rawValue)), encode(p)) == doc)
        var b = buffer(Array(doc[12...]))
        #expect(try AuthPacket(from: &b) == p)
        #expect(b.readableBytes == 0)
        #expect(frame(encode(ReplyHeader(xid: -4, zxid: 0, err: 0))) == hex("00000010 fffffffc 0000000000000000 00000000"))
        #expect(frame(encode(ReplyHeader(xid: -4, zxid: 0, err: KeeperCode.authFailed.rawValue)))
                == hex("00000010 fffffffc 0000000000000000 ffffff8d"))
    }

    /// §12.2: the SASL failure reply carries a null token.
    @Test func saslFailureReply() {
        #expect(frame(encode(ReplyHeader(xid: 5, zxid: 0, err: -115)), encode(SASLRecord(token: nil)))
                == hex("00000014 00000005 0000000000000000 ffffff8d ffffffff"))
    }

    /// §10: unknown opcode reply.
    @Test func unimplementedReply() {
        #expect(frame(encode(ReplyHeader(xid: 9, zxid: -1, err: KeeperCode.unimplemented.rawValue)))
                == hex("00000010 00000009 ffffffffffffffff fffffffa"))
    }
}

/// The numeric vocabularies against wire-protocol.md §7, §8.1, §9.1, §10.
@Suite struct CodeValueTests {
    @Test func opcodes() {
        let expected: [OpCode: Int32] = [
            .notification: 0, .create: 1, .delete: 2, .exists: 3, .getData: 4, .setData: 5, .getACL: 6, .setACL: 7,
            .getChildren: 8, .sync: 9, .ping: 11, .getChildren2: 12, .check: 13, .multi: 14, .create2: 15,
            .reconfig: 16, .checkWatches: 17, .removeWatches: 18, .createContainer: 19, .deleteContainer: 20,
            .createTTL: 21, .multiRead: 22, .auth: 100, .setWatches: 101, .sasl: 102, .getEphemerals: 103,
            .getAllChildrenNumber: 104, .setWatches2: 105, .addWatch: 106, .whoAmI: 107,
            .createSession: -10, .closeSession: -11, .error: -1,
        ]
        #expect(OpCode.allCases.count == expected.count)
        for (op, v) in expected { #expect(op.rawValue == v, "\(op)") }
        #expect(OpCode(rawValue: 10) == nil)
    }

    @Test func keeperCodes() {
        let expected: [(KeeperCode, Int32)] = [
            (.ok, 0), (.systemError, -1), (.runtimeInconsistency, -2), (.dataInconsistency, -3), (.connectionLoss, -4),
            (.marshallingError, -5), (.unimplemented, -6), (.operationTimeout, -7), (.badArguments, -8),
            (.unknownSession, -12), (.newConfigNoQuorum, -13), (.reconfigInProgress, -14), (.apiError, -100),
            (.noNode, -101), (.noAuth, -102), (.badVersion, -103), (.noChildrenForEphemerals, -108),
            (.nodeExists, -110), (.notEmpty, -111), (.sessionExpired, -112), (.invalidCallback, -113),
            (.invalidACL, -114), (.authFailed, -115), (.sessionMoved, -118), (.notReadOnly, -119),
            (.ephemeralOnLocalSession, -120), (.noWatcher, -121), (.requestTimeout, -122), (.reconfigDisabled, -123),
            (.sessionClosedRequireSaslAuth, -124), (.quotaExceeded, -125), (.throttledOp, -127),
        ]
        #expect(KeeperCode.allCases.count == expected.count)
        for (c, v) in expected { #expect(c.rawValue == v, "\(c)") }
        for undefined: Int32 in [-9, -10, -11, -104, -105, -106, -107, -109, -116, -117, -126] {
            #expect(KeeperCode(rawValue: undefined) == nil)
        }
    }

    @Test func eventTypesStatesModesAndXids() {
        #expect([EventType.none, .nodeCreated, .nodeDeleted, .nodeDataChanged, .nodeChildrenChanged,
                 .dataWatchRemoved, .childWatchRemoved, .persistentWatchRemoved].map(\.rawValue) == [-1, 1, 2, 3, 4, 5, 6, 7])
        #expect([KeeperState.unknown, .disconnected, .noSyncConnected, .syncConnected, .authFailed,
                 .connectedReadOnly, .saslAuthenticated, .expired, .closed].map(\.rawValue) == [-1, 0, 1, 3, 4, 5, 6, -112, 7])
        #expect(CreateMode.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 6])
        #expect(CreateMode.allCases.filter(\.isSequential) == [.persistentSequential, .ephemeralSequential, .persistentSequentialWithTTL])
        #expect(CreateMode.allCases.filter(\.isEphemeral) == [.ephemeral, .ephemeralSequential])
        #expect(CreateMode.allCases.filter(\.isContainer) == [.container])
        #expect(CreateMode.allCases.filter(\.isTTL) == [.persistentWithTTL, .persistentSequentialWithTTL])
        #expect(CreateMode(rawValue: 7) == nil)
        #expect(AddWatchMode.persistent.rawValue == 0 && AddWatchMode.persistentRecursive.rawValue == 1)
        #expect(WatcherType.children.rawValue == 1 && WatcherType.data.rawValue == 2 && WatcherType.any.rawValue == 3)
        #expect([SpecialXid.notification, SpecialXid.ping, SpecialXid.auth, SpecialXid.setWatches] == [-1, -2, -4, -8])
        #expect([Perms.read, Perms.write, Perms.create, Perms.delete, Perms.admin, Perms.all] == [1, 2, 4, 8, 16, 31])
    }
}
