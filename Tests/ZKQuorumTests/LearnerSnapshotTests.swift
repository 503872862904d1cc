// The SNAP payload and the stream reader under it.
import NIOCore
import Testing
import ZKData
import ZKJute
import ZKPersistence
@testable import ZKQuorum

@Suite struct LearnerSnapshotTests {
    static func serialize(_ t: DataTree) -> ByteBuffer { LearnerSnapshot.serialize(t) }

    @Test func headAsApacheSendsIt() {
        // 0 sessions, ACL cache {1: [READ world:anyone]} (quorum-protocol.md §5.4).
        var out = ByteBuffer()
        LearnerSnapshot.write(sessions: [], acls: [(1, ACL.readACLUnsafe)], nodes: ByteBuffer(), to: &out)
        #expect(out == hex("00000000 00000001 0000000000000001 00000001 00000001 00000005 776f726c64 00000006 616e796f6e65"
                           + "00000001 2f 0000000a 42656e57617348657265"))
    }

    @Test func roundTripGivesTheSameTree() throws {
        let t = DataTree()
        _ = try t.createNode("/a", data: [1, 2], acl: ACL.openACLUnsafe, ephemeralOwner: 0, parentCVersion: -1, zxid: 2, time: 9)
        _ = try t.createNode("/a/b", data: nil, acl: ACL.readACLUnsafe, ephemeralOwner: 0x77, parentCVersion: -1, zxid: 3, time: 10)
        _ = try t.createNode("/c", data: [], acl: ACL.openACLUnsafe, ephemeralOwner: 0, parentCVersion: -1, zxid: 4, time: 11)
        var out = ByteBuffer()
        LearnerSnapshot.write(sessions: [(0x77, 30000)], acls: t.aclCache.entries, nodes: Self.serialize(t), to: &out)
        let src = BufferSource(out)
        let loaded = try LearnerSnapshot.read(QuorumStreamReader(src, maxBytes: 1 << 20), extendedTypesEnabled: false)
        #expect(src.remaining == 0)
        #expect(loaded.sessions == [0x77: 30000])
        #expect(loaded.tree.digest == t.digest)
        #expect(loaded.tree.getNode("/a/b")?.stat == t.getNode("/a/b")?.stat)
        #expect(loaded.tree.acl(of: loaded.tree.getNode("/a/b")!) == ACL.readACLUnsafe)
        #expect(loaded.tree.getEphemerals(0x77) == ["/a/b"])
    }

    @Test func badStreamsAreErrors() {
        let t = DataTree()
        var good = ByteBuffer()
        LearnerSnapshot.write(sessions: [], acls: t.aclCache.entries, nodes: Self.serialize(t), to: &good)
        var wrongSig = good
        wrongSig.moveWriterIndex(to: good.writerIndex - 1)
        wrongSig.writeString("X")
        #expect(throws: (any Error).self) { try LearnerSnapshot.read(QuorumStreamReader(BufferSource(wrongSig), maxBytes: 1 << 20), extendedTypesEnabled: false) }
        for cut in [0, 3, 10, good.readableBytes - 3] {
            let short = good.getSlice(at: 0, length: cut)!
            #expect(throws: (any Error).self, "cut at \(cut)") {
                try LearnerSnapshot.read(QuorumStreamReader(BufferSource(short), maxBytes: 1 << 20), extendedTypesEnabled: false)
            }
        }
        // a huge length is refused before anything is allocated
        #expect(throws: JuteError.self) { try QuorumStreamReader(BufferSource(hex("7fffffff")), maxBytes: 1024).buffer() }
    }

    @Test func packetsFromTheStream() throws {
        var b = ByteBuffer()
        QuorumPacket(.request, zxid: -1, data: [1, 2, 3], authinfo: [Id(scheme: "ip", id: "127.0.0.1")]).write(to: &b)
        QuorumPacket(.ping, zxid: 5).write(to: &b)
        let r = QuorumStreamReader(BufferSource(b), maxBytes: 1 << 20)
        #expect(try r.packet() == QuorumPacket(.request, zxid: -1, data: [1, 2, 3], authinfo: [Id(scheme: "ip", id: "127.0.0.1")]))
        #expect(try r.packet() == QuorumPacket(.ping, zxid: 5))
        #expect(throws: (any Error).self) { try r.packet() }
    }
}
