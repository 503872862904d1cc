// Compressed snapshots (disk-format.md §5.1): gzip and snappy-java framing
// round trips, the exact bytes snappy-java writes, the file-name rule Apache
// reads by, damage reported as an error (never a crash), and recovery from
// .gz/.snappy files whatever the server is configured to write.
import Foundation
import NIOCore
import Testing
import ZKData
import ZKJute
import ZKPersistence

@Suite struct SnapshotCompressionTests {
    typealias Method = SnapshotCompression.Method
    static let maxRecord = 0xfffff * 2 + 1024

    /// Big enough for several 32 KiB snappy blocks and 64 KiB zlib buffers,
    /// half compressible text, half noise.
    static let mixed: [UInt8] = {
        var out: [UInt8] = []
        var x: UInt32 = 0x1234_5678
        for i in 0..<300_000 {
            if (i / 5000) % 2 == 0 {
                out.append(UInt8(ascii: "a") + UInt8(i % 23))
            } else {
                x = x &* 1_103_515_245 &+ 12345
                out.append(UInt8(truncatingIfNeeded: x >> 16))
            }
        }
        return out
    }()

    @Test(arguments: [Method.gz, Method.snappy])
    func roundTrip(_ m: Method) throws {
        for input in [SnapshotFormatTests.freshTree(), Self.mixed, [0x2f]] {
            let packed = try SnapshotCompression.compress(input, method: m)
            #expect(packed != input)
            #expect(SnapshotCompression.passesPreCheck(packed, method: m))
            #expect(try SnapshotCompression.decompress(packed, method: m) == input)
        }
    }

    @Test func plainIsUntouched() throws {
        let b = SnapshotFormatTests.freshTree()
        #expect(try SnapshotCompression.compress(b, method: .none) == b)
        #expect(try SnapshotCompression.decompress(b, method: .none) == b)
    }

    /// Bytes SnappyOutputStream writes for "foobar\n": the 16-byte header
    /// (magic, version 1, compatible version 1), then one chunk with its
    /// big-endian length.
    static let snappyJavaFoobar = hex("8253 4e41 5050 5900 0000 0001 0000 0001  0000 0009 0718 666f 6f62 6172 0a")

    @Test func snappyFramingIsSnappyJavas() throws {
        let foobar = Array("foobar\n".utf8)
        #expect(try SnapshotCompression.compress(foobar, method: .snappy) == Self.snappyJavaFoobar)
        #expect(try SnapshotCompression.decompress(Self.snappyJavaFoobar, method: .snappy) == foobar)
        // 32 KiB of input per chunk, as snappy-java's default block size.
        let packed = try SnapshotCompression.compress(Self.mixed, method: .snappy)
        var at = 16, chunks = 0
        while at < packed.count {
            let len = Int(packed[at]) << 24 | Int(packed[at + 1]) << 16 | Int(packed[at + 2]) << 8 | Int(packed[at + 3])
            at += 4 + len
            chunks += 1
        }
        #expect(at == packed.count)
        #expect(chunks == (Self.mixed.count + 32767) / 32768)
    }

    @Test func gzipHeader() throws {
        let packed = try SnapshotCompression.compress(SnapshotFormatTests.freshTree(), method: .gz)
        // Magic, deflate, and the length of the input mod 2^32 in the trailer.
        #expect(Array(packed.prefix(3)) == [0x1f, 0x8b, 0x08])
        #expect(Array(packed.suffix(4)) == [0xc9, 0x01, 0, 0])   // 457, little-endian
    }

    /// Streams back to back read as one, and what follows a complete stream
    /// is ignored, as java.util.zip and snappy-java do.
    @Test(arguments: [Method.gz, Method.snappy])
    func concatenatedStreamsAndTrailingBytes(_ m: Method) throws {
        let a = Array(Self.mixed[..<100_000]), b = Array(Self.mixed[100_000...])
        let both = try SnapshotCompression.compress(a, method: m) + SnapshotCompression.compress(b, method: m)
        #expect(try SnapshotCompression.decompress(both, method: m) == Self.mixed)
        let tail = try SnapshotCompression.compress(a, method: m) + [0, 1, 2]
        #expect(try SnapshotCompression.decompress(tail, method: m) == a)
    }

    @Test func fileNamesAndConfigValues() {
        #expect(Method(fileName: "snapshot.1f") == .none)
        #expect(Method(fileName: "/d/version-2/snapshot.1f.gz") == .gz)
        #expect(Method(fileName: "snapshot.1f.SNAPPY") == .snappy)
        #expect(Method(fileName: "snapshot.1f.gz.tmp") == .none)
        #expect(Method(fileName: "/a.gz/snapshot") == .none)
        #expect(Method.gz.fileSuffix == ".gz" && Method.snappy.fileSuffix == ".snappy" && Method.none.fileSuffix == "")
        #expect(Method(configValue: "") == Method.none)
        #expect(Method(configValue: "GZ") == .gz)
        #expect(Method(configValue: "Snappy") == .snappy)
        #expect(Method(configValue: "lz4") == nil)
        #expect(Method(configValue: "none") == nil)
    }

    // MARK: damage

    @Test(arguments: [Method.gz, Method.snappy])
    func emptyAndForeignInputAreErrors(_ m: Method) {
        #expect(throws: SnapshotCompression.Failure.self) { try SnapshotCompression.decompress([], method: m) }
        #expect(throws: SnapshotCompression.Failure.self) {
            try SnapshotCompression.decompress(SnapshotFormatTests.freshTree(), method: m)
        }
    }

    @Test(arguments: [Method.gz, Method.snappy])
    func everyTruncationIsAnError(_ m: Method) throws {
        let packed = try SnapshotCompression.compress(SnapshotFormatTests.freshTree(), method: m)
        for n in 0..<packed.count {
            #expect(throws: SnapshotCompression.Failure.self, "cut at \(n)") {
                try SnapshotCompression.decompress(Array(packed[..<n]), method: m)
            }
        }
    }

    /// Past gzip's header (whose time stamp and OS byte nobody checks) a
    /// flipped byte breaks the deflate data or the CRC-32 and length trailer;
    /// the few that land on code-table entries no symbol uses change nothing.
    @Test func everyGzipBodyFlipIsAnErrorOrHarmless() throws {
        let plain = SnapshotFormatTests.freshTree()
        let packed = try SnapshotCompression.compress(plain, method: .gz)
        var errors = 0
        for i in 10..<packed.count {
            var b = packed
            b[i] ^= 0x10
            do {
                #expect(try SnapshotCompression.decompress(b, method: .gz) == plain, "flip at \(i)")
            } catch {
                errors += 1
            }
        }
        #expect(errors > (packed.count - 10) * 9 / 10)
    }

    /// snappy has no checksum: a flipped literal decodes, and only the seals
    /// inside notice. Whatever the flip, the decoder must not crash, and the
    /// whole read (decompress, then parse) must fail or give the original.
    @Test func everySnappyFlipIsSafe() throws {
        let plain = SnapshotFormatTests.freshTree()
        let packed = try SnapshotCompression.compress(plain, method: .snappy)
        for i in 0..<packed.count {
            for bit in [0x01, 0x80] as [UInt8] {
                var b = packed
                b[i] ^= bit
                guard let out = try? SnapshotCompression.decompress(b, method: .snappy) else { continue }
                if out != plain {
                    #expect(throws: SnapshotFormat.Corrupt.self, "flip \(bit) at \(i)") {
                        try SnapshotFormat.read(ByteBuffer(bytes: out))
                    }
                }
            }
        }
    }

    @Test func hostileSnappyChunkLengths() {
        let header = Array(Self.snappyJavaFoobar[..<16])
        for len: [UInt8] in [[0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0]] {
            #expect(throws: SnapshotCompression.Failure.self) {
                try SnapshotCompression.decompress(header + len + [0x07, 0x18], method: .snappy)
            }
        }
        // A chunk whose own length prefix claims 4 GiB.
        #expect(throws: SnapshotCompression.Failure.self) {
            try SnapshotCompression.decompress(header + [0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00], method: .snappy)
        }
    }

    // MARK: through FileTxnSnapLog

    @Test(arguments: [Method.gz, Method.snappy])
    func writtenCompressedAndRestored(_ m: Method) throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let snapLog = try FileTxnSnapLog(dataDir: dir, dataLogDir: dir)
        try snapLog.writeSnapshot(ByteBuffer(bytes: SnapshotFormatTests.freshTree()), zxid: 0x1f, fsync: true, compression: m)
        let listed = DataDirectory.list(snapLog.snapDir, prefix: "snapshot")
        #expect(listed.map(\.zxid) == [0x1f])
        #expect(listed.map { ($0.path as NSString).lastPathComponent } == ["snapshot.1f" + m.fileSuffix])
        let onDisk = try readBytes(listed[0].path)
        #expect(try SnapshotCompression.decompress(onDisk, method: m) == SnapshotFormatTests.freshTree())
        let r = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(r.snapshotZxid == 0x1f)
        #expect(r.tree.getNode("/zookeeper/quota") != nil)
    }

    /// Snapshots of the fresh tree: plain at zxid 1, snappy at zxid 2.
    static func plainThenSnappy(in dir: String) throws -> FileTxnSnapLog {
        let snapLog = try FileTxnSnapLog(dataDir: dir, dataLogDir: dir)
        let fresh = ByteBuffer(bytes: SnapshotFormatTests.freshTree())
        try snapLog.writeSnapshot(fresh, zxid: 1, fsync: false)
        try snapLog.writeSnapshot(fresh, zxid: 2, fsync: false, compression: .snappy)
        return snapLog
    }

    /// Newest first, whatever each file's kind: plain, gz and snappy side by side.
    @Test func newestOfMixedKindsWins() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let snapLog = try Self.plainThenSnappy(in: dir)
        try snapLog.writeSnapshot(ByteBuffer(bytes: SnapshotFormatTests.freshTree()), zxid: 3, fsync: false, compression: .gz)
        #expect(DataDirectory.list(snapLog.snapDir, prefix: "snapshot").map(\.zxid) == [1, 2, 3])
        var r = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(r.snapshotZxid == 3)
        // A damaged .gz is skipped for the .snappy before it, and that for the plain one.
        let gz = snapLog.snapDir + "/snapshot.3.gz"
        var b = try readBytes(gz)
        b[b.count - 6] ^= 0x40
        try writeBytes(b, gz)
        r = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(r.snapshotZxid == 2)
        try writeBytes(Array(try readBytes(snapLog.snapDir + "/snapshot.2.snappy").dropLast(3 + 4)), snapLog.snapDir + "/snapshot.2.snappy")
        r = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(r.snapshotZxid == 1)
    }

    /// A .snappy file whose decoded bytes are wrong (a flipped literal) is
    /// caught by the seals over the uncompressed stream.
    @Test func sealsCheckTheUncompressedStream() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let snapLog = try Self.plainThenSnappy(in: dir)
        let path = snapLog.snapDir + "/snapshot.2.snappy"
        var b = try readBytes(path)
        // "/zookeeper" is literal text in the first chunk: make it "/zookeepes".
        let at = try #require(Self.find(Array("/zookeeper".utf8), in: b))
        b[at + 9] = UInt8(ascii: "s")
        try writeBytes(b, path)
        let out = try SnapshotCompression.decompress(b, method: .snappy)
        #expect(out.count == SnapshotFormatTests.freshTree().count && out != SnapshotFormatTests.freshTree())
        let r = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(r.snapshotZxid == 1)
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        return (0...(hay.count - needle.count)).first { hay[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
