// Jute primitives (wire-protocol.md §2): big-endian ints/longs, one-byte
// booleans, length-prefixed ustring/buffer/vector with -1 for null.
import NIOCore
import Testing
import ZKJute

@Suite struct PrimitiveEncodingTests {
    @Test func intAndLongAreBigEndianTwosComplement() throws {
        #expect(encode { $0.writeJuteInt(0x0102_0304) } == [1, 2, 3, 4])
        #expect(encode { $0.writeJuteInt(-2) } == [0xFF, 0xFF, 0xFF, 0xFE])
        #expect(encode { $0.writeJuteLong(0x0102_0304_0506_0708) } == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(encode { $0.writeJuteLong(-1) } == [UInt8](repeating: 0xFF, count: 8))
        var b = buffer([0x80, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x92])
        #expect(try b.readJuteInt() == Int32.min)
        #expect(try b.readJuteLong() == 0x7FFF_FFFF_FFFF_FFFF)
        #expect(try b.readJuteInt() == -110)
        #expect(b.readableBytes == 0)
    }

    @Test func booleanWritesZeroOrOneAndReadsAnyNonZeroAsTrue() throws {
        #expect(encode { $0.writeJuteBool(true) } == [1])
        #expect(encode { $0.writeJuteBool(false) } == [0])
        var b = buffer([0x00, 0x01, 0x02, 0xFF])
        #expect(try b.readJuteBool() == false)
        #expect(try b.readJuteBool() == true)
        #expect(try b.readJuteBool() == true)
        #expect(try b.readJuteBool() == true)
        #expect(throws: JuteError.truncated("boolean")) { try b.readJuteBool() }
    }

    @Test func byteIsSigned() throws {
        var b = buffer([0xFF, 0x7F])
        #expect(try b.readJuteByte() == -1)
        #expect(try b.readJuteByte() == 127)
        #expect(throws: JuteError.truncated("byte")) { try b.readJuteByte() }
    }

    @Test func stringIsLengthPrefixedUTF8WithMinusOneForNull() throws {
        #expect(encode { $0.writeJuteString("/a") } == hex("00000002 2f61"))
        #expect(encode { $0.writeJuteString("") } == hex("00000000"))
        #expect(encode { $0.writeJuteString(nil) } == hex("ffffffff"))
        // two- and three-byte BMP characters: byte length, not character count
        #expect(encode { $0.writeJuteString("é€") } == hex("00000005 c3a9 e282ac"))

        var b = buffer(hex("00000002 2f61 00000000 ffffffff 00000005 c3a9e282ac"))
        #expect(try b.readJuteString() == "/a")
        #expect(try b.readJuteString() == "")
        #expect(try b.readJuteString() == nil)
        #expect(try b.readJuteString() == "é€")
        #expect(b.readableBytes == 0)
    }

    @Test func nonNullStringReadsNullAsEmpty() throws {
        var b = buffer(hex("ffffffff 00000001 78"))
        #expect(try b.readJuteNonNullString() == "")
        #expect(try b.readJuteNonNullString() == "x")
    }

    @Test func malformedUTF8BecomesReplacementCharacter() throws {
        var b = buffer(hex("00000003 61 ff 62"))
        #expect(try b.readJuteString() == "a\u{FFFD}b")
        #expect(b.readableBytes == 0)
    }

    /// §2: the Java writer encodes each UTF-16 code unit on its own, so a
    /// character outside the BMP becomes two 3-byte surrogate sequences
    /// (CESU-8), e.g. U+1F600 -> ED A0 BD ED B8 80, not F0 9F 98 80.
    @Test func supplementaryCharacterIsWrittenAsJavaDoes() {
        #expect(toHex(encode { $0.writeJuteString("\u{1F600}") }) == "00000006eda0bdedb880")
    }

    @Test func bufferNullAndEmptyAreDistinct() throws {
        #expect(encode { $0.writeJuteBuffer(nil) } == hex("ffffffff"))
        #expect(encode { $0.writeJuteBuffer([]) } == hex("00000000"))
        #expect(encode { $0.writeJuteBuffer([0, 0xFF]) } == hex("00000002 00ff"))
        var b = buffer(hex("ffffffff 00000000 00000002 00ff"))
        #expect(try b.readJuteBuffer() == nil)
        #expect(try b.readJuteBuffer() == [])
        #expect(try b.readJuteBuffer() == [0, 0xFF])
        #expect(b.readableBytes == 0)
    }

    @Test func vectorsCountElementsAndUseMinusOneForNull() throws {
        #expect(encode { $0.writeJuteStringVector(["a", "bc"]) } == hex("00000002 00000001 61 00000002 6263"))
        #expect(encode { $0.writeJuteStringVector([]) } == hex("00000000"))
        #expect(encode { $0.writeJuteStringVector(nil) } == hex("ffffffff"))
        var b = buffer(hex("00000002 00000001 61 00000002 6263 00000000 ffffffff"))
        #expect(try b.readJuteStringVector() == ["a", "bc"])
        #expect(try b.readJuteStringVector() == [])
        #expect(try b.readJuteStringVector() == nil)
        #expect(b.readableBytes == 0)
    }

    @Test func recordVectorOfACLs() throws {
        let acls = [worldAnyoneAll, ACL(perms: Perms.read | Perms.admin, id: Id(scheme: "ip", id: "10.0.0.1"))]
        let bytes = encode { $0.writeJuteRecordVector(acls) }
        #expect(bytes == hex("00000002 0000001f 00000005776f726c64 00000006616e796f6e65 00000011 00000002 6970 00000008 31302e302e302e31"))
        var b = buffer(bytes)
        #expect(try b.readJuteACLs() == acls)
        #expect(b.readableBytes == 0)
        var n = buffer(hex("ffffffff"))
        #expect(try n.readJuteACLs() == nil)
    }

    @Test func serializedAndDecodeHelpers() throws {
        let r = ReplyHeader(xid: 7, zxid: 9, err: -101)
        let s = r.serialized()
        #expect(s.readableBytes == 16)
        #expect(try ReplyHeader.decode(s) == r)
    }

    @Test func wellKnownACLConstants() {
        #expect(ACL.openACLUnsafe == [ACL(perms: 31, id: Id(scheme: "world", id: "anyone"))])
        #expect(ACL.readACLUnsafe == [ACL(perms: 1, id: Id(scheme: "world", id: "anyone"))])
        #expect(ACL.creatorAllACL == [ACL(perms: 31, id: Id(scheme: "auth", id: ""))])
        #expect(Perms.read | Perms.write | Perms.create | Perms.delete | Perms.admin == Perms.all)
    }
}
