// Shared helpers: hex literals, encoding a record to bytes, and the round-trip
// check every record test uses (equal value, exact byte consumption, stable
// re-encoding, and every strict prefix rejected with JuteError).
import NIOCore
import Testing
import ZKJute

/// Bytes from a hex string; whitespace is ignored so doc dumps can be pasted as is.
func hex(_ s: String) -> [UInt8] {
    let digits = Array(s.unicodeScalars.filter { !$0.properties.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex digit count in \(s)")
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var i = 0
    while i < digits.count {
        let pair = String(String.UnicodeScalarView(digits[i..<(i + 2)]))
        out.append(UInt8(pair, radix: 16)!)
        i += 2
    }
    return out
}

func toHex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }.joined()
}

func encode(_ r: some JuteRecord) -> [UInt8] {
    var b = ByteBuffer()
    r.write(to: &b)
    return b.readBytes(length: b.readableBytes)!
}

func encode(_ write: (inout ByteBuffer) -> Void) -> [UInt8] {
    var b = ByteBuffer()
    write(&b)
    return b.readBytes(length: b.readableBytes)!
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// Write, read back from a buffer with 3 trailing sentinel bytes, and check the
/// value, the bytes consumed, the re-encoding, and that every strict prefix throws.
@discardableResult
func assertRoundTrip<R: JuteRecord & Equatable>(_ value: R, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    let bytes = encode(value)
    let sentinel: [UInt8] = [0xEE, 0xFF, 0x11]
    var buf = ByteBuffer(bytes: bytes + sentinel)
    let decoded = try R(from: &buf)
    #expect(decoded == value, sourceLocation: sourceLocation)
    #expect(buf.readableBytes == sentinel.count,
            "consumed \(bytes.count + sentinel.count - buf.readableBytes) bytes, wrote \(bytes.count)",
            sourceLocation: sourceLocation)
    #expect(encode(decoded) == bytes, sourceLocation: sourceLocation)
    for n in 0..<bytes.count {
        var prefix = ByteBuffer(bytes: bytes[0..<n])
        #expect(throws: JuteError.self, "prefix of \(n)/\(bytes.count) bytes must not decode", sourceLocation: sourceLocation) {
            _ = try R(from: &prefix)
        }
    }
    return bytes
}

/// The same for a Txn body (read back by its own type code).
@discardableResult
func assertTxnRoundTrip(_ txn: Txn, trailing: [UInt8] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    let bytes = encode { txn.write(to: &$0) }
    var buf = ByteBuffer(bytes: bytes + trailing)
    let decoded = try Txn.read(type: txn.type, from: &buf)
    #expect(decoded == txn, sourceLocation: sourceLocation)
    #expect(buf.readableBytes == trailing.count,
            "consumed \(bytes.count + trailing.count - buf.readableBytes) bytes, wrote \(bytes.count)",
            sourceLocation: sourceLocation)
    #expect(encode { decoded.write(to: &$0) } == bytes, sourceLocation: sourceLocation)
    return bytes
}

/// A Stat with every field distinct and non-zero, so a swapped field shows.
func sampleStat(_ seed: Int64 = 1) -> Stat {
    var s = Stat()
    s.czxid = 0x0102_0304_0506_0700 + seed
    s.mzxid = 0x1112_1314_1516_1700 + seed
    s.ctime = 0x2122_2324_2526_2700 + seed
    s.mtime = 0x3132_3334_3536_3700 + seed
    s.version = 0x4142_4300 + Int32(seed)
    s.cversion = -0x5152_5300 - Int32(seed)
    s.aversion = 0x6162_6300 + Int32(seed)
    s.ephemeralOwner = -0x7172_7374_7576_7700 - seed
    s.dataLength = 0x0A0B_0C00 + Int32(seed)
    s.numChildren = 0x1A1B_1C00 + Int32(seed)
    s.pzxid = 0x2A2B_2C2D_2E2F_2000 + seed
    return s
}

let worldAnyoneAll = ACL(perms: Perms.all, id: Id(scheme: "world", id: "anyone"))
