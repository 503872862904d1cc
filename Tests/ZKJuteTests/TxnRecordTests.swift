// org.apache.zookeeper.txn records (disk-format.md §4.3) and the Txn union.
import NIOCore
import Testing
import ZKJute

@Suite struct TxnRecordTests {
    static let hiCreate = CreateTxn(path: "/a", data: Array("hi".utf8), acl: ACL.openACLUnsafe, ephemeral: false, parentCVersion: 1)

    @Test func txnHeaderIs32Bytes() throws {
        let h = TxnHeader(clientId: 0x0100_0005_7b75_0000, cxid: 1, zxid: 2, time: 0x1a2_00fc_c7a0, type: 1)
        let bytes = try assertRoundTrip(h)
        #expect(bytes == hex("010000057b750000 00000001 0000000000000002 000001a200fcc7a0 00000001"))
        try assertRoundTrip(TxnHeader(clientId: 0, cxid: 0, zxid: -1, time: 0, type: -11))
    }

    @Test func txnDigestIs12Bytes() throws {
        #expect(try assertRoundTrip(TxnDigest(version: 2, treeDigest: 0x51c6_d660)) == hex("00000002 0000000051c6d660"))
        try assertRoundTrip(TxnDigest(version: 2, treeDigest: -1))
    }

    @Test func typeCodesOfEveryCase() {
        let c = Self.hiCreate
        let cases: [(Txn, Int32)] = [
            (.createSession(timeOut: 1), -10), (.closeSession(paths: nil), -11), (.error(-110), -1),
            (.create(c), 1), (.create2(c), 15),
            (.createContainer(CreateContainerTxn(path: "/c", data: nil, acl: [], parentCVersion: 1)), 19),
            (.createTTL(CreateTTLTxn(path: "/t", data: nil, acl: [], parentCVersion: 1, ttl: 5)), 21),
            (.delete(path: "/a"), 2), (.deleteContainer(path: "/c"), 20),
            (.setData(SetDataTxn(path: "/a", data: nil, version: 1)), 5),
            (.reconfig(SetDataTxn(path: "/zookeeper/config", data: nil, version: -1)), 16),
            (.setACL(SetACLTxn(path: "/a", acl: [], version: 1)), 7),
            (.check(path: "/a", version: 1), 13), (.multi([]), 14),
        ]
        for (txn, code) in cases { #expect(txn.type == code, "\(txn)") }
    }

    @Test func createSession() throws {
        #expect(try assertTxnRoundTrip(.createSession(timeOut: 30000)) == hex("00007530"))
    }

    @Test func closeSessionWithPathsAndWithoutRecord() throws {
        #expect(try assertTxnRoundTrip(.closeSession(paths: ["/nope", "/e"])) == hex("00000002 00000005 2f6e6f7065 00000002 2f65"))
        #expect(try assertTxnRoundTrip(.closeSession(paths: [])) == hex("00000000"))
        // closeSessionTxn disabled: no record at all, read back as nil paths
        #expect(try assertTxnRoundTrip(.closeSession(paths: nil)) == [])
        // a null vector in the record reads as an empty list, not as "no record"
        var b = buffer(hex("ffffffff"))
        #expect(try Txn.read(type: -11, from: &b) == .closeSession(paths: []))
    }

    @Test func errorTxn() throws {
        #expect(try assertTxnRoundTrip(.error(-110)) == hex("ffffff92"))
        #expect(try assertTxnRoundTrip(.error(0)) == hex("00000000"))
    }

    @Test func createAndCreate2() throws {
        let expected = hex("00000002 2f61 00000002 6869 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00 00000001")
        #expect(try assertTxnRoundTrip(.create(Self.hiCreate)) == expected)
        #expect(try assertTxnRoundTrip(.create2(Self.hiCreate)) == expected)
        let eph = CreateTxn(path: "/e", data: nil, acl: [], ephemeral: true, parentCVersion: -5)
        let bytes = try assertTxnRoundTrip(.create(eph))
        #expect(bytes == hex("00000002 2f65 ffffffff 00000000 01 fffffffb"))
        try assertTxnRoundTrip(.create2(CreateTxn(path: "/x", data: [], acl: [], ephemeral: false, parentCVersion: 0)))
    }

    @Test func legacyCreateTxnV0WithoutParentCVersion() throws {
        var b = buffer(hex("00000002 2f61 00000002 6869 00000000 01"))
        let t = try Txn.read(type: 1, from: &b)
        #expect(t == .create(CreateTxn(path: "/a", data: Array("hi".utf8), acl: [], ephemeral: true, parentCVersion: -1)))
        #expect(b.readableBytes == 0)
    }

    @Test func createContainer() throws {
        let t = Txn.createContainer(CreateContainerTxn(path: "/c", data: [7], acl: ACL.readACLUnsafe, parentCVersion: 3))
        #expect(try assertTxnRoundTrip(t) == hex("00000002 2f63 00000001 07 00000001 00000001 00000005776f726c64 00000006616e796f6e65 00000003"))
    }

    @Test func createTTL() throws {
        let t = Txn.createTTL(CreateTTLTxn(path: "/t", data: nil, acl: [], parentCVersion: 2, ttl: 1000))
        #expect(try assertTxnRoundTrip(t) == hex("00000002 2f74 ffffffff 00000000 00000002 00000000000003e8"))
    }

    @Test func deleteAndDeleteContainer() throws {
        #expect(try assertTxnRoundTrip(.delete(path: "/a")) == hex("00000002 2f61"))
        #expect(try assertTxnRoundTrip(.deleteContainer(path: "/c")) == hex("00000002 2f63"))
    }

    @Test func setDataAndReconfig() throws {
        #expect(try assertTxnRoundTrip(.setData(SetDataTxn(path: "/a", data: [0x79], version: 1))) == hex("00000002 2f61 00000001 79 00000001"))
        try assertTxnRoundTrip(.setData(SetDataTxn(path: "/a", data: nil, version: Int32.max)))
        let r = Txn.reconfig(SetDataTxn(path: "/zookeeper/config", data: Array("server.1=h:1:2;3".utf8), version: -1))
        try assertTxnRoundTrip(r)
    }

    @Test func setACL() throws {
        let t = Txn.setACL(SetACLTxn(path: "/a", acl: [worldAnyoneAll], version: 4))
        #expect(try assertTxnRoundTrip(t) == hex("00000002 2f61 00000001 0000001f 00000005776f726c64 00000006616e796f6e65 00000004"))
    }

    @Test func check() throws {
        #expect(try assertTxnRoundTrip(.check(path: "/m1", version: 1)) == hex("00000003 2f6d31 00000001"))
    }

    @Test func multiWithEveryKindOfSubTxnIncludingNestedMulti() throws {
        let subs: [Txn] = [
            .create(Self.hiCreate),
            .create2(CreateTxn(path: "/b", data: nil, acl: [], ephemeral: true, parentCVersion: 2)),
            .createContainer(CreateContainerTxn(path: "/c", data: [], acl: ACL.openACLUnsafe, parentCVersion: 3)),
            .createTTL(CreateTTLTxn(path: "/t", data: [1, 2], acl: [], parentCVersion: 4, ttl: 99)),
            .delete(path: "/d"), .deleteContainer(path: "/dc"),
            .setData(SetDataTxn(path: "/a", data: [3], version: 2)),
            .setACL(SetACLTxn(path: "/a", acl: ACL.readACLUnsafe, version: 1)),
            .check(path: "/a", version: 3),
            .error(-2),
            .multi([.delete(path: "/n1"), .multi([])]),
        ]
        try assertTxnRoundTrip(.multi(subs))
        try assertTxnRoundTrip(.multi(subs), trailing: encode(TxnDigest(version: 2, treeDigest: 42)))
    }

    /// MultiTxn { vector<Txn{int type; buffer data}> }: each sub-record is
    /// type, byte length, and the record without a TxnHeader.
    @Test func multiLayout() throws {
        let bytes = encode { Txn.multi([.delete(path: "/a"), .error(-103)]).write(to: &$0) }
        #expect(bytes == hex("00000002 00000002 00000006 000000022f61 ffffffff 00000004 ffffff99"))
        #expect(try assertTxnRoundTrip(.multi([])) == hex("00000000"))
    }

    /// The failed-multi shape of disk-format.md §4.3: the ops before the
    /// failure keep their records, then ErrorTxn{code} and ErrorTxn{-2}.
    @Test func failedMultiShape() throws {
        let t = Txn.multi([.delete(path: "/m2"), .error(-103), .error(-2)])
        let bytes = try assertTxnRoundTrip(t)
        #expect(bytes == hex("00000003 00000002 00000007 000000032f6d32 ffffffff 00000004 ffffff99 ffffffff 00000004 fffffffe"))
    }

    /// disk-format.md §4.4, record 1: createSession with a digest.
    @Test func diskExampleCreateSessionRecord() throws {
        let payload = hex("010000057b750000 00000000 0000000000000001 000001a200fcc794 fffffff6 00007530 00000002 0000000051c6d660")
        #expect(payload.count == 0x30)
        var b = buffer(payload)
        let h = try TxnHeader(from: &b)
        #expect(h == TxnHeader(clientId: 0x0100_0005_7b75_0000, cxid: 0, zxid: 1, time: 0x1a2_00fc_c794, type: -10))
        let t = try Txn.read(type: h.type, from: &b)
        #expect(t == .createSession(timeOut: 30000))
        #expect(b.readableBytes == 12)
        #expect(try TxnDigest(from: &b) == TxnDigest(version: 2, treeDigest: 0x51c6_d660))
        #expect(b.readableBytes == 0)
        // and the writers produce the same bytes
        var out = ByteBuffer()
        h.write(to: &out); t.write(to: &out); TxnDigest(version: 2, treeDigest: 0x51c6_d660).write(to: &out)
        #expect(out.readBytes(length: out.readableBytes) == payload)
    }

    /// disk-format.md §4.4, record 2: create /a "hi" with parentCVersion 1 and a digest.
    @Test func diskExampleCreateRecord() throws {
        let payload = hex("""
            010000057b750000 00000001 0000000000000002 000001a200fcc7a0 00000001
            00000002 2f61 00000002 6869
            00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65
            00 00000001
            00000002 000000008dca224c
            """)
        #expect(payload.count == 0x58)
        var b = buffer(payload)
        let h = try TxnHeader(from: &b)
        #expect(h.type == 1 && h.cxid == 1 && h.zxid == 2)
        #expect(try Txn.read(type: h.type, from: &b) == .create(Self.hiCreate))
        #expect(try TxnDigest(from: &b) == TxnDigest(version: 2, treeDigest: 0x8dca_224c))
        #expect(b.readableBytes == 0)
    }

    /// A failed duplicate create is logged as ErrorTxn -110 with no digest (36 bytes).
    @Test func diskExampleErrorRecord() throws {
        let h = TxnHeader(clientId: 0x0100_0005_7b75_0000, cxid: 2, zxid: 4, time: 0, type: -1)
        var out = ByteBuffer()
        h.write(to: &out); Txn.error(-110).write(to: &out)
        let bytes = out.readBytes(length: out.readableBytes)!
        #expect(bytes.count == 36)
        #expect(Array(bytes[28...]) == hex("ffffffff ffffff92"))
    }

    @Test func unknownTopLevelTypeIsRejected() {
        for type: Int32 in [0, 3, 4, 6, 8, 11, 12, 17, 18, 22, 100, 101, -2, 999] {
            var b = buffer(hex("00000000 00000000"))
            #expect(throws: JuteError.invalid("unsupported txn type \(type)")) { try Txn.read(type: type, from: &b) }
        }
    }
}
