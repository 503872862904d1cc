// org.apache.zookeeper.data records (wire-protocol.md §3.1).
import NIOCore
import Testing
import ZKJute

@Suite struct DataRecordTests {
    @Test func idRoundTripAndBytes() throws {
        let bytes = try assertRoundTrip(Id(scheme: "world", id: "anyone"))
        #expect(bytes == hex("00000005 776f726c64 00000006 616e796f6e65"))
        try assertRoundTrip(Id(scheme: "", id: ""))
        try assertRoundTrip(Id(scheme: "digest", id: "u:tlm6qC0Nl9AiJcLI3Ea7PNhr/B4="))
    }

    @Test func aclRoundTripAndBytes() throws {
        let bytes = try assertRoundTrip(worldAnyoneAll)
        #expect(bytes == hex("0000001f 00000005776f726c64 00000006616e796f6e65"))
        try assertRoundTrip(ACL(perms: Perms.read, id: Id(scheme: "ip", id: "127.0.0.1/8")))
        try assertRoundTrip(ACL(perms: -1, id: Id(scheme: "x", id: "ü")))
    }

    @Test func statIs68BytesInDeclarationOrder() throws {
        let s = sampleStat()
        let bytes = try assertRoundTrip(s)
        #expect(bytes.count == 68)
        #expect(toHex(bytes) ==
            "0102030405060701" + "1112131415161701" + "2122232425262701" + "3132333435363701"
            + "41424301" + "aeadacff" + "61626301"
            + "8e8d8c8b8a8988ff"
            + "0a0b0c01" + "1a1b1c01"
            + "2a2b2c2d2e2f2001")
        try assertRoundTrip(Stat())
        #expect(encode(Stat()) == [UInt8](repeating: 0, count: 68))
    }

    /// The create2 reply of §10.2 carries this Stat.
    @Test func statFromCreate2Example() throws {
        var s = Stat()
        s.czxid = 3; s.mzxid = 3; s.ctime = 0x1a2_00fc_c7aa; s.mtime = 0x1a2_00fc_c7aa; s.pzxid = 3
        #expect(encode(s) == hex("""
            0000000000000003 0000000000000003 000001a200fcc7aa 000001a200fcc7aa 00000000
            00000000 00000000 0000000000000000 00000000 00000000 0000000000000003
            """))
    }

    @Test func statPersistedIs60BytesWithoutDataLengthAndNumChildren() throws {
        var p = StatPersisted()
        p.czxid = 1; p.mzxid = 2; p.ctime = 3; p.mtime = 4
        p.version = 5; p.cversion = 6; p.aversion = -1
        p.ephemeralOwner = Int64.min; p.pzxid = 9
        let bytes = try assertRoundTrip(p)
        #expect(bytes.count == 60)
        #expect(bytes == hex("""
            0000000000000001 0000000000000002 0000000000000003 0000000000000004
            00000005 00000006 ffffffff 8000000000000000 0000000000000009
            """))
        try assertRoundTrip(StatPersisted())
    }

    @Test func clientInfoRoundTrip() throws {
        let bytes = try assertRoundTrip(ClientInfo(authScheme: "ip", user: "127.0.0.1"))
        #expect(bytes == hex("00000002 6970 00000009 3132372e302e302e31"))
        try assertRoundTrip(ClientInfo(authScheme: "digest", user: ""))
    }

    @Test func nullStringsInIdReadAsEmpty() throws {
        var b = buffer(hex("ffffffff ffffffff"))
        #expect(try Id(from: &b) == Id(scheme: "", id: ""))
        #expect(b.readableBytes == 0)
    }
}
