// Snapshot layout against the fresh snapshot.0 of disk-format.md §5.4 (all 457
// bytes), round trips, and detection of damage anywhere in the file.
import NIOCore
import Testing
import ZKJute
import ZKPersistence

@Suite struct SnapshotFormatTests {
    static let example = hex("""
        5a4b534e 00000002 ffffffffffffffff
        00000000
        00000001 0000000000000001 00000001 00000001 00000005 776f726c64 00000006 616e796f6e65
        00000000 00000000 ffffffffffffffff
          0000000000000000 0000000000000000 0000000000000000 0000000000000000
          00000000 00000000 00000000 0000000000000000 0000000000000000
        0000000a 2f7a6f6f6b6565706572
          00000000 ffffffffffffffff
          0000000000000000 0000000000000000 0000000000000000 0000000000000000
          00000000 00000000 00000000 0000000000000000 0000000000000000
        00000011 2f7a6f6f6b65657065722f636f6e666967
          00000000 0000000000000001
          0000000000000000 0000000000000000 0000000000000000 0000000000000000
          00000000 00000000 ffffffff 0000000000000000 0000000000000000
        00000010 2f7a6f6f6b65657065722f71756f7461
          00000000 ffffffffffffffff
          0000000000000000 0000000000000000 0000000000000000 0000000000000000
          00000000 00000000 00000000 0000000000000000 0000000000000000
        00000001 2f
        00000000b8a23b49
        00000001 2f
        0000000000000000 00000002 0000000000000000
        0000000095b93d59
        00000001 2f
        """)

    static func freshTree() -> [UInt8] {
        var b = ByteBuffer()
        SnapshotFormat.writeHead(sessions: [], acls: [(key: 1, acl: ACL.readACLUnsafe)], to: &b)
        var config = StatPersisted()
        config.aversion = -1
        for n in [
            SnapshotFormat.Node(path: "", data: [], aclKey: -1, stat: StatPersisted()),
            SnapshotFormat.Node(path: "/zookeeper", data: [], aclKey: -1, stat: StatPersisted()),
            SnapshotFormat.Node(path: "/zookeeper/config", data: [], aclKey: 1, stat: config),
            SnapshotFormat.Node(path: "/zookeeper/quota", data: [], aclKey: -1, stat: StatPersisted()),
        ] { SnapshotFormat.writeNode(n, to: &b) }
        SnapshotFormat.writeTail(digest: nil, to: &b)
        return bytes(b)
    }

    @Test func freshSnapshotIsByteExact() throws {
        #expect(Self.example.count == 457)
        let mine = Self.freshTree()
        #expect(mine.count == 457)
        #expect(toHex(mine) == toHex(Self.example))
        #expect(Adler32.checksum(Self.example[..<0x19b]) == 0xb8a2_3b49)
        #expect(Adler32.checksum(Self.example[..<0x1bc]) == 0x95b9_3d59)
    }

    /// Apache's own snapshot.0 from the fixture is the same 457 bytes.
    @Test func apacheFreshSnapshotMatches() throws {
        let apache = try readBytes(Fixture.apacheVersionDir + "/snapshot.0")
        #expect(apache == Self.example)
    }

    @Test func exampleReadsBack() throws {
        let c = try SnapshotFormat.read(ByteBuffer(bytes: Self.example))
        #expect(c.sessions.isEmpty)
        #expect(c.acls.count == 1 && c.acls[0].key == 1 && c.acls[0].acl == ACL.readACLUnsafe)
        #expect(c.nodes.map(\.path) == ["", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"])
        #expect(c.nodes.map(\.aclKey) == [-1, -1, 1, -1])
        #expect(c.nodes[2].stat.aversion == -1)
        #expect(c.nodes.allSatisfy { $0.data == [] })
        #expect(c.digest?.zxid == 0 && c.digest?.version == 2 && c.digest?.digest == 0)
        #expect(SnapshotFormat.looksComplete(Self.example))
    }

    @Test func roundTrip() throws {
        let sessions: [(id: Int64, timeout: Int32)] = [(0x0100_0000_0000_0001, 30000), (-5, 4000)]
        let acls: [(key: Int64, acl: [ACL])] = [
            (1, ACL.readACLUnsafe),
            (2, [ACL(perms: Perms.all, id: Id(scheme: "digest", id: "u:h=")), ACL(perms: Perms.read, id: .anyone)]),
            (7, []),
        ]
        var owner = StatPersisted()
        owner.ephemeralOwner = 0x0100_0000_0000_0001; owner.czxid = 5; owner.mzxid = 6; owner.pzxid = 5
        owner.ctime = 1_700_000_000_123; owner.mtime = 1_700_000_000_456; owner.version = 3; owner.cversion = 0
        var container = StatPersisted()
        container.ephemeralOwner = Int64.min; container.cversion = 12
        let nodes = [
            SnapshotFormat.Node(path: "", data: nil, aclKey: -1, stat: StatPersisted()),
            SnapshotFormat.Node(path: "/big", data: [UInt8](repeating: 0xab, count: 70000), aclKey: 2, stat: owner),
            SnapshotFormat.Node(path: "/c", data: [], aclKey: 7, stat: container),
            SnapshotFormat.Node(path: "/c/ü", data: Array("é".utf8), aclKey: 1, stat: StatPersisted()),
        ]
        var b = ByteBuffer()
        SnapshotFormat.writeHead(sessions: sessions, acls: acls, to: &b)
        for n in nodes { SnapshotFormat.writeNode(n, to: &b) }
        SnapshotFormat.writeTail(digest: (zxid: 0x1234, digest: -77), to: &b)
        let c = try SnapshotFormat.read(b)
        #expect(c.sessions.map(\.id) == sessions.map(\.id) && c.sessions.map(\.timeout) == sessions.map(\.timeout))
        #expect(c.acls.map(\.key) == acls.map(\.key) && c.acls.map(\.acl) == acls.map(\.acl))
        #expect(c.nodes.map(\.path) == nodes.map(\.path))
        #expect(c.nodes.map(\.data) == nodes.map(\.data))
        #expect(c.nodes.map(\.aclKey) == nodes.map(\.aclKey))
        #expect(c.nodes.map(\.stat) == nodes.map(\.stat))
        #expect(c.digest?.zxid == 0x1234 && c.digest?.version == 2 && c.digest?.digest == -77)
    }

    /// §5.2: snapshots from before digests end after the first "/" and still load.
    @Test func snapshotWithoutDigestSection() throws {
        let old = Array(Self.example[..<0x1a8])
        let c = try SnapshotFormat.read(ByteBuffer(bytes: old))
        #expect(c.digest == nil && c.nodes.count == 4)
        #expect(SnapshotFormat.looksComplete(old))
    }

    /// A snapshot cut anywhere fails to parse (or, cut right after seal 1's "/",
    /// is the legal digest-less form above) and fails Apache's pre-check.
    @Test func everyTruncationIsDetected() {
        for n in 0..<Self.example.count where n != 0x1a8 {
            let cut = Array(Self.example[..<n])
            #expect(throws: SnapshotFormat.Corrupt.self, "cut at \(n)") { try SnapshotFormat.read(ByteBuffer(bytes: cut)) }
        }
        #expect(!SnapshotFormat.looksComplete(Array(Self.example.dropLast())))
        #expect(!SnapshotFormat.looksComplete([0, 0, 0, 1, 0x2f]))
    }

    @Test func sealMismatchIsReported() throws {
        var bad = Self.example
        bad[0x60] ^= 0x01                       // inside the root's ctime
        #expect { try SnapshotFormat.read(ByteBuffer(bytes: bad)) } throws: { e in
            (e as? SnapshotFormat.Corrupt)?.reason.contains("seal") == true
        }
        bad = Self.example
        bad[0x1b0 + 3] ^= 0x01                  // digest version: only seal 2 covers it
        #expect(throws: SnapshotFormat.Corrupt.self) { try SnapshotFormat.read(ByteBuffer(bytes: bad)) }
        bad = Self.example
        bad[0x1b4 + 7] ^= 0x01                  // digest value
        #expect { try SnapshotFormat.read(ByteBuffer(bytes: bad)) } throws: { e in
            (e as? SnapshotFormat.Corrupt)?.reason.contains("digest section checksum") == true
        }
    }

    /// Any single flipped bit anywhere must be caught, as Apache catches it
    /// (it compares the whole 8-byte seal with the Adler-32 value).
    @Test func everySingleBitFlipIsDetected() {
        var missed: [Int] = []
        for i in 0..<Self.example.count {
            var bad = Self.example
            bad[i] ^= 0x10
            if (try? SnapshotFormat.read(ByteBuffer(bytes: bad))) != nil { missed.append(i) }
        }
        #expect(missed.isEmpty, "flips not detected at offsets \(missed.map { "0x" + String($0, radix: 16) })")
    }

    /// The offset in the error points at the seal that does not match.
    @Test func sealErrorNamesTheSealOffset() {
        var bad = Self.example
        bad[0x60] ^= 0x01
        #expect { try SnapshotFormat.read(ByteBuffer(bytes: bad)) } throws: { e in
            (e as? SnapshotFormat.Corrupt)?.offset == 0x19b
        }
    }
}
