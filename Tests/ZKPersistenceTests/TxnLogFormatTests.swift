// Log record framing, byte for byte against the worked example of
// disk-format.md §4.4 (written by Apache 3.8.0), and the decoding rules of
// §4.3 (optional digest, optional closeSession body, legacy records).
import NIOCore
import Testing
import ZKJute
import ZKPersistence

@Suite struct TxnLogFormatTests {
    static let session: Int64 = 0x0100_0005_7b75_0000
    static let openACL = [ACL(perms: Perms.all, id: Id(scheme: "world", id: "anyone"))]

    static let hdr1 = TxnHeader(clientId: session, cxid: 0, zxid: 1, time: 0x1a2_00fc_c794, type: OpCode.createSession.rawValue)
    static let txn1 = Txn.createSession(timeOut: 30000)
    static let digest1 = TxnDigest(version: 2, treeDigest: 0x51c6_d660)
    static let record1 = hex("""
        00000000c59e0ad9 00000030
        010000057b750000 00000000 0000000000000001 000001a200fcc794 fffffff6
        00007530
        00000002 0000000051c6d660
        42
        """)

    static let hdr2 = TxnHeader(clientId: session, cxid: 1, zxid: 2, time: 0x1a2_00fc_c7a0, type: OpCode.create.rawValue)
    static let txn2 = Txn.create(CreateTxn(path: "/a", data: Array("hi".utf8), acl: openACL, ephemeral: false, parentCVersion: 1))
    static let digest2 = TxnDigest(version: 2, treeDigest: 0x8dca_224c)
    static let record2 = hex("""
        00000000d2440c0b 00000058
        010000057b750000 00000001 0000000000000002 000001a200fcc7a0 00000001
        00000002 2f61
        00000002 6869
        00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65
        00
        00000001
        00000002 000000008dca224c
        42
        """)

    static func record(_ h: TxnHeader, _ t: Txn, _ d: TxnDigest?) -> [UInt8] {
        var out = ByteBuffer()
        TxnLogFormat.appendRecord(TxnLogFormat.payload(h, t, digest: d), to: &out)
        return bytes(out)
    }

    @Test func fileHeaderIsZKLGVersion2Dbid0() {
        #expect(TxnLogFormat.fileHeader() == hex("5a4b4c47 00000002 0000000000000000"))
    }

    @Test func workedExampleRecord1CreateSession() {
        let r = Self.record(Self.hdr1, Self.txn1, Self.digest1)
        #expect(toHex(r) == toHex(Self.record1))
        #expect(TxnLogFormat.payload(Self.hdr1, Self.txn1, digest: Self.digest1).readableBytes == 48)
        #expect(Adler32.checksum(Self.record1[12..<60]) == 0xc59e_0ad9)
    }

    @Test func workedExampleRecord2Create() {
        let r = Self.record(Self.hdr2, Self.txn2, Self.digest2)
        #expect(toHex(r) == toHex(Self.record2))
        #expect(TxnLogFormat.payload(Self.hdr2, Self.txn2, digest: Self.digest2).readableBytes == 88)
        #expect(Adler32.checksum(Self.record2[12..<100]) == 0xd244_0c0b)
    }

    /// The start of the example log, then preallocated zeros: two records, then the end.
    @Test func stepReadsTheExampleBack() throws {
        let file = TxnLogFormat.fileHeader() + Self.record1 + Self.record2 + [UInt8](repeating: 0, count: 64)
        let buf = ByteBuffer(bytes: file)
        guard case .record(let r1, let next1) = TxnLogFormat.step(buf, at: 16, maxRecordBytes: 1 << 20) else {
            Issue.record("record 1 not read"); return
        }
        #expect(r1.hdr == Self.hdr1 && r1.txn == Self.txn1 && r1.digest == Self.digest1 && r1.offset == 16)
        #expect(next1 == 16 + Self.record1.count)
        guard case .record(let r2, let next2) = TxnLogFormat.step(buf, at: next1, maxRecordBytes: 1 << 20) else {
            Issue.record("record 2 not read"); return
        }
        #expect(r2.hdr == Self.hdr2 && r2.txn == Self.txn2 && r2.digest == Self.digest2 && r2.offset == next1)
        guard case .end = TxnLogFormat.step(buf, at: next2, maxRecordBytes: 1 << 20) else {
            Issue.record("zeros after the last record must read as the end"); return
        }
        // A file that simply stops after a record ends cleanly too.
        guard case .end = TxnLogFormat.step(ByteBuffer(bytes: file[..<next2]), at: next2, maxRecordBytes: 1 << 20) else {
            Issue.record("EOF right after a record must read as the end"); return
        }
    }

    /// §4.4: a failed create is logged as error -110 with a 36-byte payload and no digest.
    @Test func errorRecordHasNoDigest() throws {
        let h = TxnHeader(clientId: Self.session, cxid: 3, zxid: 4, time: 1, type: OpCode.error.rawValue)
        let p = TxnLogFormat.payload(h, .error(KeeperCode.nodeExists.rawValue))
        #expect(p.readableBytes == 36)
        #expect(toHex(bytes(p).suffix(8)) == "ffffffffffffff92")
        let r = try TxnLogFormat.decodePayload(p, offset: 0)
        #expect(r.txn == .error(-110) && r.digest == nil)
    }

    @Test(arguments: [
        Txn.closeSession(paths: ["/nope"]), .closeSession(paths: []), .closeSession(paths: nil),
        .closeSession(paths: ["/a", "/b/c"]),
    ])
    func closeSessionBodyIsOptional(_ t: Txn) throws {
        let h = TxnHeader(clientId: Self.session, cxid: 9, zxid: 7, time: 5, type: OpCode.closeSession.rawValue)
        for d in [nil, TxnDigest(version: 2, treeDigest: 0x1234_5678_9abc), TxnDigest(version: 2, treeDigest: 0x51c6_d660)] {
            let r = try TxnLogFormat.decodePayload(TxnLogFormat.payload(h, t, digest: d), offset: 0)
            #expect(r.txn == t, "digest \(String(describing: d))")
            #expect(r.digest == d)
        }
    }

    /// Every txn type survives payload encoding and decoding, with and without a digest.
    @Test(arguments: [
        Txn.createSession(timeOut: 4000),
        .create2(CreateTxn(path: "/e", data: nil, acl: openACL, ephemeral: true, parentCVersion: 3)),
        .createContainer(CreateContainerTxn(path: "/c", data: [1, 2], acl: openACL, parentCVersion: 0)),
        .createTTL(CreateTTLTxn(path: "/t", data: [], acl: openACL, parentCVersion: 9, ttl: 60000)),
        .delete(path: "/x"), .deleteContainer(path: "/c"),
        .setData(SetDataTxn(path: "/x", data: Array("v".utf8), version: 4)),
        .reconfig(SetDataTxn(path: "/zookeeper/config", data: Array("server.1=a:1:2".utf8), version: -1)),
        .setACL(SetACLTxn(path: "/x", acl: [ACL(perms: Perms.read, id: Id(scheme: "ip", id: "10.0.0.0/8"))], version: 2)),
        .multi([.create(CreateTxn(path: "/m", data: [0], acl: openACL, ephemeral: false, parentCVersion: 1)),
                .check(path: "/m", version: 1), .setData(SetDataTxn(path: "/m", data: nil, version: 1)), .delete(path: "/m")]),
        .multi([.create(CreateTxn(path: "/m", data: [0], acl: openACL, ephemeral: false, parentCVersion: 1)),
                .error(-110), .error(-2)]),
        .multi([]),
        .check(path: "/top", version: 5),
    ])
    func payloadRoundTrip(_ t: Txn) throws {
        let h = TxnHeader(clientId: 77, cxid: 8, zxid: 0x1_0000_0005, time: 1_700_000_000_000, type: t.type)
        for d in [nil, TxnDigest(version: 2, treeDigest: -5)] {
            let r = try TxnLogFormat.decodePayload(TxnLogFormat.payload(h, t, digest: d), offset: 99)
            #expect(r.hdr == h && r.txn == t && r.digest == d && r.offset == 99)
        }
    }

    /// §4.3: a CreateTxnV0 (no parentCVersion) is still accepted for type 1.
    @Test func legacyCreateWithoutParentCVersion() throws {
        let h = TxnHeader(clientId: 1, cxid: 1, zxid: 1, time: 1, type: OpCode.create.rawValue)
        var b = ByteBuffer()
        h.write(to: &b)
        b.writeJuteString("/old"); b.writeJuteBuffer([7]); b.writeJuteRecordVector(Self.openACL); b.writeJuteBool(false)
        let r = try TxnLogFormat.decodePayload(b, offset: 0)
        #expect(r.txn == .create(CreateTxn(path: "/old", data: [7], acl: Self.openACL, ephemeral: false, parentCVersion: -1)))
        #expect(r.digest == nil)
    }

    @Test func unknownTypeIsDamage() {
        let h = TxnHeader(clientId: 1, cxid: 1, zxid: 1, time: 1, type: 42)
        var p = ByteBuffer()
        h.write(to: &p)
        p.writeJuteInt(0)
        var file = ByteBuffer(bytes: TxnLogFormat.fileHeader())
        TxnLogFormat.appendRecord(p, to: &file)
        guard case .damaged(let off, let reason, let end) = TxnLogFormat.step(file, at: 16, maxRecordBytes: 1 << 20) else {
            Issue.record("an unknown type must not decode"); return
        }
        #expect(off == 16 && end == file.writerIndex && reason.contains("undecodable"))
    }

    /// Every damage the framing can show, at the record where it is.
    @Test func damageKinds() {
        let good = TxnLogFormat.fileHeader() + Self.record1
        func step(_ b: [UInt8]) -> TxnLogFormat.Step { TxnLogFormat.step(ByteBuffer(bytes: b), at: 16, maxRecordBytes: 1 << 20) }
        func reason(_ s: TxnLogFormat.Step) -> String? {
            if case .damaged(16, let r, _) = s { return r }
            return nil
        }
        var bad = good; bad[bad.count - 1] = 0x41
        #expect(reason(step(bad))?.contains("marker") == true)
        bad = good; bad[40] ^= 1
        #expect(reason(step(bad))?.contains("checksum") == true)
        bad = good; bad[16] = 1    // upper half of the checksum long must be zero
        #expect(reason(step(bad))?.contains("checksum") == true)
        bad = good; bad[24...27] = [0xff, 0xff, 0xff, 0xff]
        #expect(reason(step(bad))?.contains("length") == true)
        bad = good; bad[24...27] = [0, 0x40, 0, 0]
        #expect(reason(step(bad))?.contains("length") == true)
        #expect(reason(step(Array(good.dropLast())))?.contains("truncated") == true)
        #expect(reason(step(Array(good.prefix(16 + 9))))?.contains("truncated") == true)
    }
}
