// `zkswift snapshot dump|verify` on .gz and .snappy files: the same answers
// as for the plain file they were made from, and damage reported on one line
// with exit status 1.
import Foundation
import Testing
@testable import zkswift
import ZKPersistence

@Suite struct SnapshotToolCompressionTests {
    static func run(_ f: (Sink) -> Int32) -> (Int32, [String], [String]) {
        let s = CollectingSink()
        let rc = f(s)
        return (rc, s.stdout, s.stderr)
    }

    /// Apache's snapshot.1f from the fixture, compressed into `dir`.
    static func compressedCopy(_ dir: String, _ m: SnapshotCompression.Method) throws -> String {
        let plain = try readBytes(Fixture.apacheVersionDir + "/snapshot.1f")
        let p = dir + "/snapshot.1f" + m.fileSuffix
        try writeBytes(try SnapshotCompression.compress(plain, method: m), p)
        return p
    }

    @Test(arguments: [SnapshotCompression.Method.gz, .snappy])
    func sameAnswersAsThePlainFile(_ m: SnapshotCompression.Method) throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let plain = Fixture.apacheVersionDir + "/snapshot.1f"
        let p = try Self.compressedCopy(dir, m)
        let v = Self.run { SnapshotTool.verify(p, to: $0) }
        let vPlain = Self.run { SnapshotTool.verify(plain, to: $0) }
        #expect(v.0 == 0 && vPlain.0 == 0)
        #expect(v.1.map { $0.replacingOccurrences(of: p, with: "F") } == vPlain.1.map { $0.replacingOccurrences(of: plain, with: "F") })
        let d = Self.run { SnapshotTool.dump(p, to: $0) }
        let dPlain = Self.run { SnapshotTool.dump(plain, to: $0) }
        #expect(d.0 == 0 && d.1 == dPlain.1 && d.2 == dPlain.2)
    }

    @Test func damagedCompressedLayer() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let gz = try Self.compressedCopy(dir, .gz)
        var b = try readBytes(gz)
        b.removeLast(5)
        try writeBytes(b, gz)
        let (rc, out, err) = Self.run { SnapshotTool.verify(gz, to: $0) }
        #expect(rc == 1 && out.isEmpty && err.count == 1)
        #expect(err.first?.hasPrefix("\(gz): gzip stream cut short") == true, "\(err)")
        // Not a gzip stream at all, whatever the name says.
        try writeBytes(try readBytes(Fixture.apacheVersionDir + "/snapshot.1f"), gz)
        #expect(Self.run { SnapshotTool.verify(gz, to: $0) }.0 == 1)
    }

    /// A literal changed inside a snappy chunk decodes; the seal over the
    /// uncompressed stream catches it, and the offset says which stream.
    @Test func damageInsideTheSnappyStream() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let p = try Self.compressedCopy(dir, .snappy)
        var b = try readBytes(p)
        let at = try #require(SnapshotCompressionTests.find(Array("/zookeeper".utf8), in: b))
        b[at + 9] = UInt8(ascii: "s")
        try writeBytes(b, p)
        let (rc, out, err) = Self.run { SnapshotTool.verify(p, to: $0) }
        #expect(rc == 1 && out.isEmpty && err.count == 1)
        #expect(err.first?.hasPrefix("\(p): corrupt snapshot at offset ") == true, "\(err)")
        #expect(err.first?.contains(" of the uncompressed stream: ") == true, "\(err)")
    }
}
