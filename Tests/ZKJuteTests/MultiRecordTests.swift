// multi (14) / multiRead (22) request and response encodings (wire-protocol.md §11).
import NIOCore
import Testing
import ZKJute

@Suite struct MultiRecordTests {
    static let everyOp: [MultiOp] = [
        .create(CreateRequest(path: "/m1", data: [0x78], acl: ACL.openACLUnsafe, flags: 0), opcode: 1),
        .create(CreateRequest(path: "/m2", data: [], acl: ACL.openACLUnsafe, flags: 2), opcode: 15),
        .create(CreateRequest(path: "/c", data: nil, acl: ACL.readACLUnsafe, flags: 4), opcode: 19),
        .createTTL(CreateTTLRequest(path: "/t", data: [1], acl: ACL.openACLUnsafe, flags: 5, ttl: 500)),
        .delete(DeleteRequest(path: "/d", version: -1)),
        .setData(SetDataRequest(path: "/m1", data: [0x79], version: 0)),
        .check(CheckVersionRequest(path: "/m1", version: 1)),
        .getData(path: "/g"),
        .getChildren(path: "/"),
    ]

    @Test func requestWithEveryOpRoundTrips() throws {
        let bytes = try assertRoundTrip(MultiRequest(ops: Self.everyOp))
        #expect(Array(bytes.suffix(9)) == hex("ffffffff 01 ffffffff"))
    }

    @Test func emptyRequestIsJustTheEndMarker() throws {
        #expect(try assertRoundTrip(MultiRequest(ops: [])) == hex("ffffffff 01 ffffffff"))
    }

    @Test func opAccessors() {
        let expected: [(Int32, String, Bool)] = [
            (1, "/m1", false), (15, "/m2", false), (19, "/c", false), (21, "/t", false), (2, "/d", false),
            (5, "/m1", false), (13, "/m1", false), (4, "/g", true), (8, "/", true),
        ]
        for (op, e) in zip(Self.everyOp, expected) {
            #expect(op.opcode == e.0)
            #expect(op.path == e.1)
            #expect(op.isRead == e.2)
        }
    }

    /// Read ops are written with watch=false; a client's watch=true still parses.
    @Test func readOpsIgnoreTheWatchFlag() throws {
        #expect(encode(MultiRequest(ops: [.getData(path: "/g")])) == hex("00000004 00 ffffffff 00000002 2f67 00 ffffffff 01 ffffffff"))
        var b = buffer(hex("00000008 00 ffffffff 00000002 2f67 01 ffffffff 01 ffffffff"))
        #expect(try MultiRequest(from: &b) == MultiRequest(ops: [.getChildren(path: "/g")]))
        #expect(b.readableBytes == 0)
    }

    /// Verified-live request of §11 (after its 4-byte length and RequestHeader {1, 14}).
    @Test func docExampleRequest() throws {
        let body = hex("""
            0000000100ffffffff 000000032f6d31 0000000178 00000001 0000001f 00000005776f726c64 00000006616e796f6e65 00000000
            0000000f00ffffffff 000000032f6d32 00000000   00000001 0000001f 00000005776f726c64 00000006616e796f6e65 00000000
            0000000d00ffffffff 000000032f6d31 00000000
            0000000500ffffffff 000000032f6d31 0000000179 00000000
            ffffffff01ffffffff
            """)
        let r = MultiRequest(ops: [
            .create(CreateRequest(path: "/m1", data: [0x78], acl: ACL.openACLUnsafe, flags: 0), opcode: 1),
            .create(CreateRequest(path: "/m2", data: [], acl: ACL.openACLUnsafe, flags: 0), opcode: 15),
            .check(CheckVersionRequest(path: "/m1", version: 0)),
            .setData(SetDataRequest(path: "/m1", data: [0x79], version: 0)),
        ])
        #expect(encode(r) == body)
        var b = buffer(body)
        #expect(try MultiRequest(from: &b) == r)
        #expect(b.readableBytes == 0)
        let frame = hex("000000a5 00000001 0000000e") + body
        #expect(encode(RequestHeader(xid: 1, type: OpCode.multi.rawValue)) + body == Array(frame[4...]))
        #expect(frame.count - 4 == 0xa5)
    }

    @Test func unknownOrWriteOnlyTypesFailTheWholeParse() {
        for type: Int32 in [3, 6, 7, 9, 12, 14, 16, 20, 22, 0, -2] {
            var b = buffer(encode(MultiHeader(type: type, done: false, err: -1)) + hex("00000002 2f61 00000000") + encode(MultiHeader.end))
            #expect(throws: JuteError.invalid("invalid type \(type) in multi")) { try MultiRequest(from: &b) }
        }
    }

    @Test func missingEndMarkerIsTruncated() {
        var b = buffer(encode(MultiHeader(type: 2, done: false, err: -1)) + encode(DeleteRequest(path: "/a", version: -1)))
        #expect(throws: JuteError.truncated("int")) { try MultiRequest(from: &b) }
    }

    @Test func responseWithEveryResultRoundTrips() throws {
        let results: [OpResult] = [
            .create(path: "/m1"), .create2(path: "/m2", stat: sampleStat(1)), .delete, .setData(sampleStat(2)), .check,
            .getData(data: nil, stat: sampleStat(3)), .getData(data: [], stat: sampleStat(4)), .getData(data: [1, 2], stat: Stat()),
            .getChildren(["a", "b"]), .getChildren([]), .error(-101), .error(0), .error(-2),
        ]
        try assertRoundTrip(MultiResponse(results: results))
        #expect(try assertRoundTrip(MultiResponse(results: [])) == hex("ffffffff 01 ffffffff"))
    }

    @Test func resultTypes() {
        let pairs: [(OpResult, Int32)] = [
            (.create(path: "/"), 1), (.create2(path: "/", stat: Stat()), 15), (.delete, 2), (.setData(Stat()), 5),
            (.check, 13), (.getData(data: nil, stat: Stat()), 4), (.getChildren([]), 8), (.error(-101), -1),
        ]
        for (r, t) in pairs { #expect(r.type == t) }
    }

    /// Successful multi reply of §11 (3.8.0 shape: the create2 reported as create).
    @Test func docExampleSuccessfulReply() throws {
        var st = Stat()
        st.czxid = 0x2c; st.mzxid = 0x2c; st.pzxid = 0x2c; st.version = 1; st.dataLength = 1
        let r = MultiResponse(results: [.create(path: "/m1"), .create(path: "/m2"), .check, .setData(st)])
        let body = encode(r)
        #expect(body == hex("""
            000000010000000000 000000032f6d31
            000000010000000000 000000032f6d32
            0000000d0000000000
            000000050000000000
            """) + encode(st) + hex("ffffffff01ffffffff"))
        #expect(16 + body.count == 0x8f)
    }

    /// Failed multi reply of §11: err 0 before the failure, the code, then -2.
    @Test func docExampleFailedReply() throws {
        let frame = hex("""
            00000040 00000002 000000000000002d 00000000
            ffffffff0000000000 00000000
            ffffffff00ffffff99 ffffff99
            ffffffff00fffffffe fffffffe
            ffffffff01ffffffff
            """)
        var b = buffer(Array(frame[4...]))
        #expect(try ReplyHeader(from: &b) == ReplyHeader(xid: 2, zxid: 0x2d, err: 0))
        let r = try MultiResponse(from: &b)
        #expect(r == MultiResponse(results: [.error(0), .error(-103), .error(-2)]))
        #expect(b.readableBytes == 0)
        #expect(encode(ReplyHeader(xid: 2, zxid: 0x2d, err: 0)) + encode(r) == Array(frame[4...]))
    }

    @Test func createResultReadsOnlyThePath() throws {
        // type 1 with err 0 and a path; the next header must be read right after it
        var b = buffer(hex("00000001 00 00000000 00000002 2f61 00000002 00 00000000 ffffffff 01 ffffffff"))
        #expect(try MultiResponse(from: &b) == MultiResponse(results: [.create(path: "/a"), .delete]))
        #expect(b.readableBytes == 0)
    }

    @Test func unknownResultTypeIsRejected() {
        var b = buffer(hex("00000007 00 00000000 ffffffff 01 ffffffff"))
        #expect(throws: JuteError.invalid("invalid type 7 in multi response")) { try MultiResponse(from: &b) }
    }
}
