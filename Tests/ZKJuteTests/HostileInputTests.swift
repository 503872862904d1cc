// Hostile frames: truncation and negative or huge lengths must throw JuteError
// (never trap, never allocate by the claimed size).
import NIOCore
import Testing
import ZKJute

@Suite struct HostileInputTests {
    static let badLengths: [Int32] = [-2, -100, Int32.min, 0x7FFF_FFFF, 0x0010_0000, 5]

    @Test func truncatedPrimitives() {
        var b = buffer([0, 0, 1])
        #expect(throws: JuteError.truncated("int")) { try b.readJuteInt() }
        var l = buffer([0, 0, 0, 0, 0, 0, 1])
        #expect(throws: JuteError.truncated("long")) { try l.readJuteLong() }
        var e = buffer([])
        #expect(throws: JuteError.truncated("int")) { try e.readJuteString() }
        #expect(throws: JuteError.truncated("int")) { try e.readJuteBuffer() }
        #expect(throws: JuteError.truncated("int")) { try e.readJuteStringVector() }
    }

    @Test(arguments: badLengths)
    func stringLength(_ len: Int32) {
        // four payload bytes follow, so only lengths 0...4 (and -1) are acceptable
        var b = buffer(encode { $0.writeJuteInt(len) } + [0x61, 0x62, 0x63, 0x64])
        #expect(throws: JuteError.badLength("ustring", len)) { try b.readJuteString() }
    }

    @Test(arguments: badLengths)
    func bufferLength(_ len: Int32) {
        var b = buffer(encode { $0.writeJuteInt(len) } + [1, 2, 3, 4])
        #expect(throws: JuteError.badLength("buffer", len)) { try b.readJuteBuffer() }
    }

    @Test(arguments: badLengths)
    func vectorCount(_ count: Int32) {
        var b = buffer(encode { $0.writeJuteInt(count) } + [0, 0, 0, 0])
        #expect(throws: JuteError.badLength("vector", count)) { try b.readJuteStringVector() }
        var a = buffer(encode { $0.writeJuteInt(count) } + [0, 0, 0, 0])
        #expect(throws: JuteError.badLength("vector", count)) { try a.readJuteACLs() }
    }

    @Test func vectorCountWithinBytesButElementsMissing() {
        // count 3 fits the 4 remaining bytes, but the elements themselves do not
        var b = buffer(hex("00000003 00000001"))
        #expect(throws: JuteError.self) { try b.readJuteStringVector() }
        var c = buffer(hex("00000002 00000001 61 00000009 62"))
        #expect(throws: JuteError.badLength("ustring", 9)) { try c.readJuteStringVector() }
    }

    @Test func hugeLengthsInsideRecords() {
        var create = buffer(hex("00000002 2f61 7fffffff 6869"))
        #expect(throws: JuteError.badLength("buffer", 0x7FFF_FFFF)) { try CreateRequest(from: &create) }
        var acl = buffer(hex("00000002 2f61 00000000 80000000 00000000"))
        #expect(throws: JuteError.badLength("vector", Int32.min)) { try CreateRequest(from: &acl) }
        var path = buffer(hex("fffffffe 00"))
        #expect(throws: JuteError.badLength("ustring", -2)) { try PathWatchRecord(from: &path) }
        var connect = buffer(hex("00000000 0000000000000000 00007530 0000000000000000 7ffffff0 00"))
        #expect(throws: JuteError.badLength("buffer", 0x7FFF_FFF0)) { try ConnectRequest(from: &connect) }
        var who = buffer(hex("40000000 00000002 6970"))
        #expect(throws: JuteError.badLength("vector", 0x4000_0000)) { try WhoAmIResponse(from: &who) }
        var sw = buffer(hex("0000000000000000 00000000 00000000 ffffff00"))
        #expect(throws: JuteError.badLength("vector", -256)) { try SetWatches(from: &sw) }
    }

    @Test(arguments: [Int32(-2), Int32.min, 0x7FFF_FFFF, 100])
    func multiTxnCount(_ count: Int32) {
        var b = buffer(encode { $0.writeJuteInt(count) } + hex("00000002 00000006 000000022f61"))
        #expect(throws: JuteError.badLength("multi txn", count)) { try Txn.read(type: OpCode.multi.rawValue, from: &b) }
    }

    @Test(arguments: [Int32(-1), -2, Int32.min, 0x7FFF_FFFF, 7])
    func multiSubTxnLength(_ len: Int32) {
        var b = buffer(hex("00000001 00000002") + encode { $0.writeJuteInt(len) } + hex("000000022f61"))
        #expect(throws: JuteError.badLength("multi sub-txn", len)) { try Txn.read(type: OpCode.multi.rawValue, from: &b) }
    }

    @Test func multiSubTxnBodyShorterThanItsRecord() {
        // the declared sub-length (3) cuts the DeleteTxn's path short: the slice is bounded
        var b = buffer(hex("00000001 00000002 00000003 000000022f61"))
        #expect(throws: JuteError.self) { try Txn.read(type: OpCode.multi.rawValue, from: &b) }
        // unknown sub-type
        var u = buffer(hex("00000001 00000063 00000000"))
        #expect(throws: JuteError.invalid("unsupported txn type 99")) { try Txn.read(type: OpCode.multi.rawValue, from: &u) }
        // truncated sub-header
        var t = buffer(hex("00000001 00000002 0000"))
        #expect(throws: JuteError.truncated("int")) { try Txn.read(type: OpCode.multi.rawValue, from: &t) }
    }

    @Test func deeplyNestedMultiIsBoundedByTheBytes() throws {
        var t = Txn.multi([])
        for _ in 0..<50 { t = .multi([t]) }
        var bytes = encode { t.write(to: &$0) }
        var b = buffer(bytes)
        #expect(try Txn.read(type: 14, from: &b) == t)
        bytes.removeLast()
        var cut = buffer(bytes)
        #expect(throws: JuteError.self) { try Txn.read(type: 14, from: &cut) }
    }

    @Test func truncatedTxnBodies() {
        let full: [Txn] = [
            .createSession(timeOut: 1), .error(-1),
            .create(CreateTxn(path: "/a", data: [1], acl: ACL.openACLUnsafe, ephemeral: false, parentCVersion: 1)),
            .createContainer(CreateContainerTxn(path: "/c", data: [1], acl: ACL.openACLUnsafe, parentCVersion: 1)),
            .createTTL(CreateTTLTxn(path: "/t", data: [1], acl: ACL.openACLUnsafe, parentCVersion: 1, ttl: 9)),
            .delete(path: "/d"), .setData(SetDataTxn(path: "/s", data: [1], version: 1)),
            .setACL(SetACLTxn(path: "/s", acl: ACL.openACLUnsafe, version: 1)), .check(path: "/k", version: 1),
            .multi([.delete(path: "/d"), .error(-2)]), .closeSession(paths: ["/e"]),
        ]
        for txn in full {
            let bytes = encode { txn.write(to: &$0) }
            // create accepts the legacy V0 form (parentCVersion absent: fewer than
            // 4 bytes after `ephemeral`, as Java's EOF fallback does); closeSession
            // accepts no record at all. Every other prefix must fail.
            let allowed: Set<Int> = {
                switch txn {
                case .create: Set((bytes.count - 4)..<bytes.count)
                case .closeSession: [0]
                default: []
                }
            }()
            for n in 0..<bytes.count where !allowed.contains(n) {
                var b = buffer(Array(bytes[0..<n]))
                #expect(throws: JuteError.self, "\(txn) cut to \(n)") { try Txn.read(type: txn.type, from: &b) }
            }
        }
    }

    @Test func garbageNeverTraps() {
        // a fixed pseudo-random byte stream fed to every decoder at every offset
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes: [UInt8] = []
        for _ in 0..<512 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 56))
        }
        let decoders: [(inout ByteBuffer) throws -> Void] = [
            { _ = try ConnectRequest(from: &$0) }, { _ = try CreateRequest(from: &$0) }, { _ = try SetWatches2(from: &$0) },
            { _ = try MultiRequest(from: &$0) }, { _ = try MultiResponse(from: &$0) }, { _ = try WhoAmIResponse(from: &$0) },
            { _ = try GetACLResponse(from: &$0) }, { _ = try ReconfigRequest(from: &$0) },
            { _ = try Txn.read(type: 14, from: &$0) }, { _ = try Txn.read(type: 1, from: &$0) }, { _ = try Txn.read(type: -11, from: &$0) },
        ]
        var attempts = 0, rejected = 0
        for start in stride(from: 0, to: bytes.count, by: 7) {
            for d in decoders {
                var b = buffer(Array(bytes[start...]))
                attempts += 1
                do { try d(&b) } catch {
                    rejected += 1
                    #expect(error is JuteError, "\(error)")
                }
            }
        }
        // the point is not trapping; random bytes must still be mostly rejected
        #expect(attempts == 74 * decoders.count)
        #expect(rejected > attempts / 2)
    }
}
