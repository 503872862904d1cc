// org.apache.zookeeper.proto records (wire-protocol.md §3.2): every record
// round-trips, consumes exactly its bytes, and encodes its fields in order.
import NIOCore
import Testing
import ZKJute

@Suite struct ProtoRecordTests {
    @Test func connectRequest() throws {
        let r = ConnectRequest(protocolVersion: 0, lastZxidSeen: 0x1234, timeOut: 30000, sessionId: 0x0100_0005_7b75_0000,
                               passwd: Array(0..<16))
        let bytes = try assertRoundTrip(r)
        #expect(bytes == hex("00000000 0000000000001234 00007530 010000057b750000 00000010 000102030405060708090a0b0c0d0e0f"))
        try assertRoundTrip(ConnectRequest(timeOut: 1, passwd: nil))
        try assertRoundTrip(ConnectRequest(protocolVersion: -1, timeOut: -1, passwd: []))
        // the default password is 16 zero bytes
        #expect(ConnectRequest(timeOut: 5).passwd == [UInt8](repeating: 0, count: 16))
    }

    @Test func connectResponse() throws {
        let bytes = try assertRoundTrip(ConnectResponse(protocolVersion: 0, timeOut: 4000, sessionId: -2, passwd: [9, 8]))
        #expect(bytes == hex("00000000 00000fa0 fffffffffffffffe 00000002 0908"))
        try assertRoundTrip(ConnectResponse(timeOut: 0, sessionId: 0, passwd: nil))
    }

    @Test func requestAndReplyHeaders() throws {
        #expect(try assertRoundTrip(RequestHeader(xid: -2, type: 11)) == hex("fffffffe 0000000b"))
        #expect(try assertRoundTrip(ReplyHeader(xid: 1, zxid: 0x1_0000_0002, err: -110)) == hex("00000001 0000000100000002 ffffff92"))
        #expect(encode(ReplyHeader(xid: 0, zxid: 0, err: 0)).count == 16)
    }

    @Test func multiHeader() throws {
        #expect(try assertRoundTrip(MultiHeader(type: 1, done: false, err: -1)) == hex("00000001 00 ffffffff"))
        #expect(try assertRoundTrip(MultiHeader.end) == hex("ffffffff 01 ffffffff"))
        #expect(MultiHeader.end == MultiHeader(type: -1, done: true, err: -1))
    }

    @Test func authPacket() throws {
        let bytes = try assertRoundTrip(AuthPacket(type: 0, scheme: "digest", auth: Array("u:p".utf8)))
        #expect(bytes == hex("00000000 00000006 646967657374 00000003 753a70"))
        try assertRoundTrip(AuthPacket(type: 7, scheme: "ip", auth: nil))
        try assertRoundTrip(AuthPacket(scheme: "", auth: []))
    }

    @Test func watcherEvent() throws {
        let bytes = try assertRoundTrip(WatcherEvent(type: 4, state: 3, path: "/"))
        #expect(bytes == hex("00000004 00000003 00000001 2f"))
        try assertRoundTrip(WatcherEvent(type: -1, state: -112, path: ""))
    }

    @Test func errorResponse() throws {
        #expect(try assertRoundTrip(ErrorResponse(err: -121)) == hex("ffffff87"))
        #expect(try assertRoundTrip(ErrorResponse(err: 0)) == hex("00000000"))
    }

    @Test func setWatches() throws {
        let r = SetWatches(relativeZxid: 0x2f, dataWatches: ["/m1", "/gone"], existWatches: ["/absent"], childWatches: ["/"])
        let bytes = try assertRoundTrip(r)
        #expect(bytes == hex("""
            000000000000002f
            00000002 00000003 2f6d31 00000005 2f676f6e65
            00000001 00000007 2f616273656e74
            00000001 00000001 2f
            """))
        try assertRoundTrip(SetWatches(relativeZxid: -1, dataWatches: [], existWatches: [], childWatches: []))
    }

    /// Apache answers MARSHALLINGERROR to setWatches with null lists, so they do not decode.
    @Test func setWatchesRejectsNullVectors() throws {
        var b = buffer(hex("0000000000000001 ffffffff ffffffff ffffffff"))
        #expect(throws: JuteError.invalid("null watch list in setWatches")) { try SetWatches(from: &b) }
    }

    @Test func setWatches2() throws {
        let r = SetWatches2(relativeZxid: 5, dataWatches: ["/d"], existWatches: ["/e"], childWatches: ["/c"],
                            persistentWatches: ["/p"], persistentRecursiveWatches: ["/r", "/r2"])
        let bytes = try assertRoundTrip(r)
        #expect(bytes == hex("""
            0000000000000005
            00000001 00000002 2f64
            00000001 00000002 2f65
            00000001 00000002 2f63
            00000001 00000002 2f70
            00000002 00000002 2f72 00000003 2f7232
            """))
        try assertRoundTrip(SetWatches2(relativeZxid: 0, dataWatches: [], existWatches: [], childWatches: [],
                                        persistentWatches: [], persistentRecursiveWatches: []))
    }

    @Test func createRequest() throws {
        let r = CreateRequest(path: "/a", data: Array("hi".utf8), acl: ACL.openACLUnsafe, flags: 0)
        let bytes = try assertRoundTrip(r)
        #expect(bytes == hex("00000002 2f61 00000002 6869 00000001 0000001f 00000005776f726c64 00000006616e796f6e65 00000000"))
        try assertRoundTrip(CreateRequest(path: "/n", data: nil, acl: [], flags: 3))
        try assertRoundTrip(CreateRequest(path: "/e", data: [], acl: ACL.openACLUnsafe + ACL.readACLUnsafe, flags: 4))
        // null data and empty data stay distinct
        #expect(encode(CreateRequest(path: "/n", data: nil, acl: [], flags: 0))
                != encode(CreateRequest(path: "/n", data: [], acl: [], flags: 0)))
    }

    @Test func createTTLRequest() throws {
        let r = CreateTTLRequest(path: "/t", data: [1], acl: ACL.openACLUnsafe, flags: 5, ttl: 0xFF_FFFF_FFFF)
        let bytes = try assertRoundTrip(r)
        #expect(bytes == hex("00000002 2f74 00000001 01 00000001 0000001f 00000005776f726c64 00000006616e796f6e65 00000005 000000ffffffffff"))
        try assertRoundTrip(CreateTTLRequest(path: "/t", data: nil, acl: [], flags: 6, ttl: -1))
    }

    @Test func pathRecordAndAliases() throws {
        #expect(try assertRoundTrip(PathRecord(path: "/zookeeper/config")) == hex("00000011") + Array("/zookeeper/config".utf8))
        try assertRoundTrip(CreateResponse(path: "/seq-0000000001"))
        try assertRoundTrip(SyncRequest(path: "/"))
        try assertRoundTrip(GetACLRequest(path: ""))
    }

    @Test func getEphemeralsRequestWithNullPrefix() throws {
        #expect(try assertRoundTrip(GetEphemeralsRequest(prefixPath: nil)) == hex("ffffffff"))
        #expect(try assertRoundTrip(GetEphemeralsRequest(prefixPath: "")) == hex("00000000"))
        #expect(try assertRoundTrip(GetEphemeralsRequest(prefixPath: "/e")) == hex("00000002 2f65"))
    }

    @Test func create2Response() throws {
        let bytes = try assertRoundTrip(Create2Response(path: "/b", stat: sampleStat(2)))
        #expect(bytes.count == 4 + 2 + 68)
        #expect(Array(bytes[0..<6]) == hex("00000002 2f62"))
        #expect(Array(bytes[6...]) == encode(sampleStat(2)))
    }

    @Test func pathVersionRecord() throws {
        #expect(try assertRoundTrip(DeleteRequest(path: "/a", version: -1)) == hex("00000002 2f61 ffffffff"))
        try assertRoundTrip(CheckVersionRequest(path: "/m1", version: 7))
    }

    @Test func pathWatchRecord() throws {
        #expect(try assertRoundTrip(GetDataRequest(path: "/", watch: true)) == hex("00000001 2f 01"))
        #expect(try assertRoundTrip(ExistsRequest(path: "/x", watch: false)) == hex("00000002 2f78 00"))
        try assertRoundTrip(GetChildren2Request(path: "/a/b", watch: true))
    }

    @Test func statResponse() throws {
        #expect(try assertRoundTrip(StatResponse(stat: sampleStat(3))) == encode(sampleStat(3)))
    }

    @Test func getDataResponseNullAndEmptyDataAreDistinct() throws {
        let null = try assertRoundTrip(GetDataResponse(data: nil, stat: Stat()))
        let empty = try assertRoundTrip(GetDataResponse(data: [], stat: Stat()))
        #expect(Array(null[0..<4]) == hex("ffffffff"))
        #expect(Array(empty[0..<4]) == hex("00000000"))
        #expect(null.count == 72 && empty.count == 72)
        var b = buffer(null)
        #expect(try GetDataResponse(from: &b).data == nil)
        var e = buffer(empty)
        #expect(try GetDataResponse(from: &e).data == [])
        try assertRoundTrip(GetDataResponse(data: Array("server.1=x".utf8), stat: sampleStat(4)))
    }

    @Test func setDataRequest() throws {
        #expect(try assertRoundTrip(SetDataRequest(path: "/m1", data: [0x79], version: 0)) == hex("00000003 2f6d31 00000001 79 00000000"))
        #expect(try assertRoundTrip(SetDataRequest(path: "/m1", data: nil, version: -1)) == hex("00000003 2f6d31 ffffffff ffffffff"))
    }

    @Test func getACLResponse() throws {
        let r = GetACLResponse(acl: [ACL(perms: Perms.read, id: Id(scheme: "digest", id: "user:x"))], stat: sampleStat(5))
        let bytes = try assertRoundTrip(r)
        #expect(Array(bytes[0..<4]) == hex("00000001"))
        try assertRoundTrip(GetACLResponse(acl: [], stat: Stat()))
    }

    @Test func setACLRequest() throws {
        let bytes = try assertRoundTrip(SetACLRequest(path: "/a", acl: ACL.readACLUnsafe, version: 3))
        #expect(bytes == hex("00000002 2f61 00000001 00000001 00000005776f726c64 00000006616e796f6e65 00000003"))
    }

    @Test func getChildrenResponses() throws {
        #expect(try assertRoundTrip(GetChildrenResponse(children: ["zookeeper"])) == hex("00000001 00000009 7a6f6f6b6565706572"))
        #expect(try assertRoundTrip(GetChildrenResponse(children: [])) == hex("00000000"))
        let bytes = try assertRoundTrip(GetChildren2Response(children: ["a", "b"], stat: sampleStat(6)))
        #expect(Array(bytes[0..<14]) == hex("00000002 00000001 61 00000001 62"))
        #expect(Array(bytes[14...]) == encode(sampleStat(6)))
    }

    @Test func getAllChildrenNumberResponse() throws {
        #expect(try assertRoundTrip(GetAllChildrenNumberResponse(totalNumber: 12)) == hex("0000000c"))
    }

    @Test func pathTypeRecord() throws {
        #expect(try assertRoundTrip(AddWatchRequest(path: "/t", type: AddWatchMode.persistentRecursive.rawValue)) == hex("00000002 2f74 00000001"))
        try assertRoundTrip(CheckWatchesRequest(path: "/a", type: WatcherType.any.rawValue))
        try assertRoundTrip(RemoveWatchesRequest(path: "/a", type: WatcherType.children.rawValue))
    }

    @Test func getEphemeralsResponse() throws {
        #expect(try assertRoundTrip(GetEphemeralsResponse(ephemerals: ["/e1"])) == hex("00000001 00000003 2f6531"))
        try assertRoundTrip(GetEphemeralsResponse(ephemerals: []))
    }

    @Test func whoAmIResponse() throws {
        let r = WhoAmIResponse(clientInfo: [ClientInfo(authScheme: "ip", user: "127.0.0.1"), ClientInfo(authScheme: "digest", user: "u")])
        let bytes = try assertRoundTrip(r)
        #expect(bytes == hex("00000002 00000002 6970 00000009 3132372e302e302e31 00000006 646967657374 00000001 75"))
        try assertRoundTrip(WhoAmIResponse(clientInfo: []))
    }

    @Test func reconfigRequestWithNullAndPresentFields() throws {
        // ReconfigRequest has no memberwise init: build it from its bytes.
        let wire = hex("ffffffff 00000001 33 ffffffff ffffffffffffffff")
        var b = buffer(wire)
        let r = try ReconfigRequest(from: &b)
        #expect(b.readableBytes == 0)
        #expect(r.joiningServers == nil)
        #expect(r.leavingServers == "3")
        #expect(r.newMembers == nil)
        #expect(r.curConfigId == -1)
        #expect(try assertRoundTrip(r) == wire)

        var full = buffer(hex("00000001 61 00000000 00000002 6263 0000000100000000"))
        let f = try ReconfigRequest(from: &full)
        #expect(f.joiningServers == "a" && f.leavingServers == "" && f.newMembers == "bc" && f.curConfigId == 0x1_0000_0000)
        try assertRoundTrip(f)
    }

    @Test func saslRecord() throws {
        #expect(try assertRoundTrip(SASLRecord(token: nil)) == hex("ffffffff"))
        #expect(try assertRoundTrip(SASLRecord(token: [])) == hex("00000000"))
        try assertRoundTrip(SASLRecord(token: Array(0...255)))
    }
}
