// Election and learner records against the bytes Apache 3.8.0 sent
// (quorum-protocol.md §2.2, §3.1, §5.3; verified live there).
import NIOCore
import Testing
import ZKJute

func hex(_ s: String) -> ByteBuffer {
    let clean = s.filter { !$0.isWhitespace }
    var b = ByteBuffer()
    var i = clean.startIndex
    while i < clean.endIndex {
        let j = clean.index(i, offsetBy: 2)
        b.writeInteger(UInt8(clean[i..<j], radix: 16)!)
        i = j
    }
    return b
}

@Suite struct QuorumRecordsTests {
    @Test func initialMessageAsApacheSendsIt() throws {
        var b = hex("ffffffffffff0000 0000000000000002 0000000f 3132372e302e302e313a3335333839")
        let bytes = b
        #expect(try InitialMessage.read(from: &b) == .message(InitialMessage(sid: 2, addresses: ["127.0.0.1:35389"])))
        #expect(b.readableBytes == 0)
        var out = ByteBuffer()
        InitialMessage(sid: 2, addresses: ["127.0.0.1:35389"]).write(to: &out)
        #expect(out == bytes)
    }

    @Test func initialMessageLegacyPartialAndBad() throws {
        var legacy = hex("0000000000000007")
        #expect(try InitialMessage.read(from: &legacy) == .message(InitialMessage(sid: 7, addresses: [])))
        var partial = hex("ffffffffffff0000 0000000000000002 0000000f 3132")
        #expect(try InitialMessage.read(from: &partial) == .needMore)
        #expect(partial.readerIndex == 0)
        var badVersion = hex("ffffffffffff0005 0000000000000002")
        #expect(throws: JuteError.self) { try InitialMessage.read(from: &badVersion) }
        var tooLong = hex("ffffffffffff0000 0000000000000002 00000801")
        #expect(throws: JuteError.self) { try InitialMessage.read(from: &tooLong) }
        var noPort = hex("ffffffffffff0000 0000000000000002 00000004 686f7374")
        #expect(throws: JuteError.self) { try InitialMessage.read(from: &noPort) }
    }

    static let config = "server.1=127.0.0.1:35288:35388:participant\nserver.2=127.0.0.1:35289:35389:participant\nserver.3=127.0.0.1:35290:35390:participant\nversion=0"

    @Test func notificationAsApacheSendsIt() throws {
        let body = hex("00000002 0000000000000002 0000000000000000 0000000000000001 0000000000000001 00000002 0000008a")
            .readableBytesView + Array(Self.config.utf8)
        let n = try #require(try ElectionNotification.read(message: ByteBuffer(bytes: body)))
        #expect(n == ElectionNotification(state: .leading, leader: 2, zxid: 0, electionEpoch: 1, peerEpoch: 1, version: 2, config: Self.config))
        var out = ByteBuffer()
        n.write(to: &out)
        #expect(Array(out.readableBytesView) == Array(body))
        #expect(body.count == 182)
    }

    @Test func olderNotificationLayouts() throws {
        // 28 bytes: peerEpoch comes from the zxid.
        let n28 = try #require(try ElectionNotification.read(message: hex("00000000 0000000000000003 0000000500000009 0000000000000004")))
        #expect(n28.peerEpoch == 5 && n28.version == 0 && n28.config == nil)
        let n40 = try #require(try ElectionNotification.read(message: hex("00000001 0000000000000003 0000000500000009 0000000000000004 0000000000000006 00000000")))
        #expect(n40.peerEpoch == 6 && n40.version == 0 && n40.state == .following)
        // version 1 (after reconfig's notification change, before configs): no config read.
        let v1 = try #require(try ElectionNotification.read(message: hex("00000000 0000000000000003 0000000000000009 0000000000000004 0000000000000006 00000001 00000000")))
        #expect(v1.version == 1 && v1.config == nil)
        // unknown state: skipped, not an error
        #expect(try ElectionNotification.read(message: hex("00000009 0000000000000003 0000000500000009 0000000000000004")) == nil)
        #expect(throws: JuteError.self) { try ElectionNotification.read(message: hex("00000000 00000000")) }
        // a config length past the message
        #expect(throws: JuteError.self) {
            try ElectionNotification.read(message: hex("00000000 0000000000000003 0000000000000009 0000000000000004 0000000000000006 00000002 000000ff 41"))
        }
    }

    @Test func learnerPacketsAsApacheSendsThem() throws {
        // FOLLOWERINFO of sid 3 (acceptedEpoch 0) and LEADERINFO for epoch 1.
        var fi = hex("0000000b 0000000000000000 00000014 0000000000000003 00010000 0000000000000000 ffffffff")
        let p = try QuorumPacket(from: &fi)
        #expect(p.packetType == .followerInfo && p.zxid == 0 && p.authinfo == nil)
        var data = ByteBuffer(bytes: p.data!)
        #expect(try LearnerInfo(from: &data) == LearnerInfo(serverId: 3, configVersion: 0))
        var li = ByteBuffer()
        QuorumPacket(.leaderInfo, zxid: Zxid.make(epoch: 1, counter: 0), data: [0, 1, 0, 0]).write(to: &li)
        #expect(li == hex("00000011 0000000100000000 00000004 00010000 ffffffff"))
        // A PING reply carrying one session touch, echoing the leader's zxid.
        var ping = hex("00000005 000000010000000a 0000000c 0300000000000042 00007530 ffffffff")
        let pr = try QuorumPacket(from: &ping)
        #expect(pr.packetType == .ping && pr.zxid == 0x1_0000_000a && pr.data?.count == 12)
    }
}
