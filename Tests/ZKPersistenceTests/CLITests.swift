// The zkswift subcommands: exact output lines and exit statuses on Apache's
// fixture files and on damaged copies, in process through the tool functions,
// plus a few runs of the built binary for argument handling and exit codes.
import Foundation
import NIOCore
import Testing
@testable import zkswift
import ZKJute
import ZKPersistence

@Suite struct CLITests {
    static func run(_ f: (Sink) -> Int32) -> (Int32, [String], [String]) {
        let s = CollectingSink()
        let rc = f(s)
        return (rc, s.stdout, s.stderr)
    }

    @Test func formats() {
        #expect(Format.isoTime(0) == "1970-01-01T00:00:00.000Z")
        #expect(Format.isoTime(0x1a2_00fc_c794) == "2026-11-22T02:01:35.892Z")   // values from Python's datetime
        #expect(Format.isoTime(1_795_237_779_188) == "2026-11-21T05:09:39.188Z")
        #expect(Format.isoTime(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Format.isoTime(-1) == "1969-12-31T23:59:59.999Z")
        #expect(Format.hex(Int64.min) == "0x8000000000000000" && Format.hex(Int32(-2)) == "0xfffffffe")
        #expect(Format.perms(31) == "cdrwa" && Format.perms(3) == "rw" && Format.perms(0) == "-" && Format.perms(33) == "r+0x20")
        #expect(Format.data(nil) == "null" && Format.data([]) == "[0]" && Format.data([0xff]) == "[1]")
        #expect(Format.data(Array("a\"b".utf8)) == #"[3]"a\"b""#)
        #expect(Format.data(Array(repeating: 0x61, count: 41)) == "[41]")
        #expect(Format.path("/a b") == #""/a b""#)
        // Request.op2String's spellings, which TxnLogToolkit prints.
        #expect([-10, -11, -1, 1, 15, 19, 21, 2, 20, 5, 16, 7, 14, 13].map(TxnText.typeName)
                == ["createSession", "closeSession", "error", "create", "create2", "createContainer", "createTtl",
                    "delete", "deleteContainer", "setData", "reconfig", "setACL", "multi", "check"])
        #expect(TxnText.typeName(99) == "unknown(99)")
    }

    @Test func txnlogVerifyApacheLogs() {
        let v = Fixture.apacheVersionDir
        #expect(Self.run { TxnLogTool.verify(v + "/log.1", to: $0) } == (0, ["\(v)/log.1: 18 txns, zxid 0x1 to 0x12, ok"], []))
        #expect(Self.run { TxnLogTool.verify(v + "/log.13", to: $0) } == (0, ["\(v)/log.13: 13 txns, zxid 0x13 to 0x1f, ok"], []))
        #expect(Self.run { TxnLogTool.verify(v + "/log.20", to: $0) } == (0, ["\(v)/log.20: 10 txns, zxid 0x20 to 0x29, ok"], []))
    }

    /// The same records TxnLogToolkit prints for log.1 (Fixtures/README.md).
    @Test func txnlogDumpApacheLog() {
        let (rc, out, err) = Self.run { TxnLogTool.dump(Fixture.apacheVersionDir + "/log.1", to: $0) }
        #expect(rc == 0 && err.isEmpty && out.count == 19)
        #expect(out.first == "2026-11-22T05:09:39.188Z session 0x10000435f6a0000 cxid 0x0 zxid 0x1 createSession timeout=30000 digest=v2:0x51c6d660")
        #expect(out[3] == "2026-11-22T05:09:39.370Z session 0x10000435f6a0000 cxid 0x3 zxid 0x4 create path=/secure data=[2]\"s3\" "
            + "acl=[digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:cdrwa,world:anyone:r] ephemeral=false parentCVersion=2 digest=v2:0x217ce1b81")
        #expect(out[10].contains("zxid 0xb multi ops=4 {create path=/multi data=[1]\"m\" acl=[world:anyone:cdrwa] ephemeral=false parentCVersion=3; "
            + "create path=/multi/a data=[2]\"ma\" acl=[world:anyone:cdrwa] ephemeral=false parentCVersion=1; setData path=/app data=[6]\"hello3\" version=2; "
            + "check path=/app/config version=1}"))
        #expect(out[11].contains("zxid 0xc multi ops=2 {create path=/multi/b data=[1]\"x\" acl=[world:anyone:cdrwa] ephemeral=false parentCVersion=2; error err=-110(nodeExists)}"))
        #expect(out[12] == "2026-11-22T05:09:39.441Z session 0x10000435f6a0000 cxid 0xc zxid 0xd error err=-110(nodeExists)")
        #expect(out[16].hasSuffix("zxid 0x11 closeSession ephemerals=[/app/eph-b] digest=v2:0x33b2b9079"))
        #expect(out.last == "18 txns")
    }

    static func damagedCopy(_ dir: String, _ name: String, _ edit: (inout [UInt8]) -> Void) throws -> String {
        var b = try readBytes(Fixture.apacheVersionDir + "/" + name)
        edit(&b)
        let p = dir + "/" + name
        try writeBytes(b, p)
        return p
    }

    @Test func txnlogCorruptMiddleRecord() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        // log.20's third record starts at 16 + two records; flip a payload byte in it.
        let layout = try TxnLogReaderTests.layout(Fixture.apacheVersionDir + "/log.20")
        let victim = layout.offsets[2]
        let p = try Self.damagedCopy(dir, "log.20") { $0[victim + 40] ^= 0x01 }
        let (rc, out, err) = Self.run { TxnLogTool.verify(p, to: $0) }
        #expect(rc == 1 && err.isEmpty)
        #expect(out == ["\(p): corrupt record at offset \(victim): checksum mismatch"])
        let (drc, dout, derr) = Self.run { TxnLogTool.dump(p, to: $0) }
        #expect(drc == 1 && dout.count == 2)
        #expect(derr == ["\(p): corrupt record at offset \(victim): checksum mismatch"])
    }

    @Test func txnlogTornTailIsReportedButOk() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let layout = try TxnLogReaderTests.layout(Fixture.apacheVersionDir + "/log.20")
        let last = layout.offsets.last!
        let p = try Self.damagedCopy(dir, "log.20") { $0[layout.end - 1] = 0 }
        let (rc, out, _) = Self.run { TxnLogTool.verify(p, to: $0) }
        #expect(rc == 0)
        #expect(out == ["\(p): 9 txns, zxid 0x20 to 0x28, torn tail at offset \(last) (missing end-of-record marker)"])
        let (drc, dout, _) = Self.run { TxnLogTool.dump(p, to: $0) }
        #expect(drc == 0 && dout.suffix(2) == ["torn tail at offset \(last) (missing end-of-record marker)", "9 txns"])
    }

    /// A middle record whose length field is unusable is corruption, not a
    /// torn tail, because valid records follow it (TxnLogReaderTests).
    @Test func txnlogBadLengthInMiddleIsCorrupt() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let layout = try TxnLogReaderTests.layout(Fixture.apacheVersionDir + "/log.20")
        let victim = layout.offsets[3]
        let p = try Self.damagedCopy(dir, "log.20") { $0[victim + 8] = 0xff }
        let (rc, out, _) = Self.run { TxnLogTool.verify(p, to: $0) }
        #expect(rc == 1)
        let original = try readBytes(Fixture.apacheVersionDir + "/log.20")
        let len = Int32(bitPattern: 0xff00_0000 | UInt32(original[victim + 9]) << 16 | UInt32(original[victim + 10]) << 8 | UInt32(original[victim + 11]))
        #expect(out == ["\(p): corrupt record at offset \(victim): bad record length \(len)"], "\(out)")
        let (drc, _, derr) = Self.run { TxnLogTool.dump(p, to: $0) }
        #expect(drc == 1 && derr.first?.hasPrefix("\(p): corrupt record at offset \(victim)") == true)
    }

    /// A record header zeroed in the middle makes every reader stop there
    /// silently; verify notices the records hidden behind it.
    @Test func txnlogZeroedHeaderHidingRecordsIsCorrupt() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let layout = try TxnLogReaderTests.layout(Fixture.apacheVersionDir + "/log.20")
        let victim = layout.offsets[4]
        let p = try Self.damagedCopy(dir, "log.20") { $0[victim..<victim + 12] = ArraySlice(repeating: 0, count: 12) }
        let (rc, out, _) = Self.run { TxnLogTool.verify(p, to: $0) }
        #expect(rc == 1)
        #expect(out.first?.hasPrefix("\(p): corrupt record at offset \(victim): the log ends here (zero length) but non-zero bytes follow at offset \(victim + 12)") == true)
    }

    @Test func firstNonZeroScan() {
        for n in [0, 1, 7, 8, 9, 63, 64, 1000] {
            #expect(TxnLogTool.firstNonZero(in: Data(count: n)) == nil)
            for i in Set([0, n / 2, n - 1]) where i >= 0 && i < n {
                var d = Data(count: n)
                d[i] = 0x80
                d[n - 1] |= 1
                #expect(TxnLogTool.firstNonZero(in: d) == i, "n \(n) i \(i)")
            }
        }
    }

    /// What zkswiftd writes (FileTxnLog, no digests) verifies and dumps.
    @Test func zkswiftdWrittenLog() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try TxnLogReaderTests.writeLog(in: dir, count: 7, firstZxid: 0x2_0000_0001, digests: false)
        let verified = Self.run { TxnLogTool.verify(path, to: $0) }
        #expect(verified == (0, ["\(path): 7 txns, zxid 0x200000001 to 0x200000007, ok"], []))
        let (rc, out, _) = Self.run { TxnLogTool.dump(path, to: $0) }
        #expect(rc == 0 && !out.contains { $0.contains("digest=") })
        try #require(out.count == 8, "\(out)")
        #expect(out[1] == "2024-02-22T08:18:54.594Z session 0x100000000000001 cxid 0x1 zxid 0x200000002 create path=/n8589934594 "
                + "data=[15]\"data 8589934594\" acl=[world:anyone:cdrwa] ephemeral=false parentCVersion=2")
    }

    @Test func txnlogMissingAndEmptyFiles() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        #expect(Self.run { TxnLogTool.verify(dir + "/nope", to: $0) }.0 == 2)
        #expect(Self.run { TxnLogTool.verify(dir, to: $0) }.0 == 2)
        try writeBytes([], dir + "/log.5")
        #expect(Self.run { TxnLogTool.verify(dir + "/log.5", to: $0) } == (0, ["\(dir)/log.5: 0 txns, torn tail at offset 0 (empty log file)"], []))
        try writeBytes(TxnLogFormat.fileHeader() + [UInt8](repeating: 0, count: 100), dir + "/log.6")
        #expect(Self.run { TxnLogTool.verify(dir + "/log.6", to: $0) } == (0, ["\(dir)/log.6: 0 txns, ok"], []))
        try writeBytes(Array("not a log at all".utf8), dir + "/log.7")
        #expect(Self.run { TxnLogTool.verify(dir + "/log.7", to: $0) } == (1, ["\(dir)/log.7: corrupt record at offset 0: bad magic number"], []))
    }

    @Test func snapshotVerifyApacheSnapshots() {
        let v = Fixture.apacheVersionDir
        #expect(Self.run { SnapshotTool.verify(v + "/snapshot.0", to: $0) }
                == (0, ["\(v)/snapshot.0: 4 nodes, 0 sessions, 1 ACL lists, 0 data bytes, digest zxid 0x0 v2 0x0, seals ok"], []))
        #expect(Self.run { SnapshotTool.verify(v + "/snapshot.1f", to: $0) }
                == (0, ["\(v)/snapshot.1f: 22 nodes, 1 sessions, 4 ACL lists, 89 data bytes, digest zxid 0x1f v2 0x825924c83, seals ok"], []))
    }

    @Test func snapshotDumpApacheSnapshot() {
        let (rc, out, err) = Self.run { SnapshotTool.dump(Fixture.apacheRecoveredSnapshot, to: $0) }
        #expect(rc == 0 && err.isEmpty)
        #expect(out.first == "session 0x10000435f6a0000 timeout=30000")
        #expect(out.contains("acl 3 [digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:cdrwa,world:anyone:r]"))
        #expect(out.contains("/ data=[0] czxid=0x0 mzxid=0x0 pzxid=0x28 version=0 cversion=16 aversion=0 ephemeralOwner=0x0 acl=[world:anyone:cdrwa]"))
        #expect(out.contains(#"/app/config data=[7]"{\"k\":5}" czxid=0x3 mzxid=0x27 pzxid=0x3 version=4 cversion=0 aversion=1 ephemeralOwner=0x0 acl=[world:anyone:rw]"#))
        #expect(out.contains("/app/eph20000000006 data=[0] czxid=0x23 mzxid=0x23 pzxid=0x23 version=0 cversion=0 aversion=0 ephemeralOwner=0x10000435f6a0000 acl=[world:anyone:cdrwa]"))
        #expect(out.contains("/zookeeper/config data=[0] czxid=0x0 mzxid=0x0 pzxid=0x0 version=0 cversion=0 aversion=-1 ephemeralOwner=0x0 acl=[world:anyone:r]"))
        #expect(out.filter { $0.hasPrefix("/") }.count == 22)
        #expect(out.last == "22 nodes, 1 sessions, 5 ACL lists, 76 data bytes, digest zxid 0x29 v2 0x8d3f7d88e")
    }

    @Test func snapshotDamage() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let p = try Self.damagedCopy(dir, "snapshot.1f") { $0[200] ^= 0x04 }
        let (rc, out, err) = Self.run { SnapshotTool.verify(p, to: $0) }
        #expect(rc == 1 && out.isEmpty && err.count == 1)
        #expect(err.first?.hasPrefix("\(p): corrupt snapshot at offset ") == true && err.first?.contains("seal") == true)
        let q = try Self.damagedCopy(dir, "snapshot.11") { $0[0] = 0 }
        #expect(Self.run { SnapshotTool.verify(q, to: $0) } == (1, [], ["\(q): corrupt snapshot at offset 0: bad magic number 0x4b534e"]))
        let r = try Self.damagedCopy(dir, "snapshot.0") { $0 += [0, 0, 0, 1, 0x2f] }
        #expect(Self.run { SnapshotTool.verify(r, to: $0) } == (1, [], ["\(r): corrupt snapshot at offset 457: 5 bytes after the end of the snapshot"]))
        #expect(Self.run { SnapshotTool.dump(dir + "/snapshot.99", to: $0) }.0 == 2)
    }

    /// verify names the seal's own offset, and checks all 8 bytes of both
    /// seals as Apache does (see SnapshotFormatTests for the library's view).
    @Test func snapshotVerifyNamesTheSeal() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let p = dir + "/snapshot.0"
        for (flip, offset, what) in [(0x60, 0x19b, "seal mismatch"), (0x1b7, 0x1bc, "digest section seal mismatch"),
                                     (0x19b, 0x19b, "seal mismatch"), (0x1bc, 0x1bc, "digest section seal mismatch"),
                                     (0x1a7, 0x1a3, "end marker after the seal is not")] {
            var b = SnapshotFormatTests.example
            b[flip] ^= 0x01
            try writeBytes(b, p)
            let (rc, out, err) = Self.run { SnapshotTool.verify(p, to: $0) }
            #expect(rc == 1 && out.isEmpty, "flip at \(flip)")
            #expect(err.first?.hasPrefix("\(p): corrupt snapshot at offset \(offset): \(what)") == true, "flip at \(flip): \(err)")
        }
        try writeBytes(Array(SnapshotFormatTests.example[..<300]), p)
        let (rc, _, err) = Self.run { SnapshotTool.verify(p, to: $0) }
        #expect(rc == 1 && err.first?.contains("truncated") == true, "\(err)")
    }

    /// A child before its parent: parses and seals fine, but Apache's loader refuses it.
    @Test func snapshotChildBeforeParent() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        var b = ByteBuffer()
        SnapshotFormat.writeHead(sessions: [], acls: [], to: &b)
        let nodes = ["", "/a/b", "/a"].map { SnapshotFormat.Node(path: $0, data: nil, aclKey: -1, stat: StatPersisted()) }
        var offsets: [Int] = []
        for n in nodes { offsets.append(b.writerIndex); SnapshotFormat.writeNode(n, to: &b) }
        SnapshotFormat.writeTail(digest: nil, to: &b)
        try writeBytes(bytes(b), dir + "/snapshot.1")
        #expect(Self.run { SnapshotTool.verify(dir + "/snapshot.1", to: $0) }
                == (1, [], ["\(dir)/snapshot.1: corrupt snapshot at offset \(offsets[1]): node /a/b comes before its parent /a"]))
    }

    // MARK: the binary

    static var binary: String? {
        let dir = Bundle.module.bundleURL.deletingLastPathComponent()
        let p = dir.appendingPathComponent("zkswift").path
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }

    static func exec(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(binary, "zkswift is built next to the tests"))
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test(.enabled(if: binary != nil)) func binaryExitCodes() throws {
        let v = Fixture.apacheVersionDir
        let ok = try Self.exec(["txnlog", "verify", v + "/log.1"])
        #expect(ok.0 == 0 && ok.1 == "\(v)/log.1: 18 txns, zxid 0x1 to 0x12, ok\n")
        #expect(try Self.exec(["snapshot", "verify", v + "/snapshot.1f"]).0 == 0)
        #expect(try Self.exec(["txnlog", "verify", v + "/no-such-log"]).0 == 2)
        #expect(try Self.exec(["purge", v, "-n", "2"]).0 == 64)
        #expect(try Self.exec(["txnlog", "frobnicate"]).0 == 64)
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let p = try Self.damagedCopy(dir, "log.13") { $0[100] ^= 0xff }
        let bad = try Self.exec(["txnlog", "dump", p])
        #expect(bad.0 == 1 && bad.2.contains("\(p): corrupt record at offset"))
        let data = try Fixture.copyApacheDataDir(to: dir)
        let dry = try Self.exec(["purge", data, "-n", "3", "--dry-run"])
        #expect(dry.0 == 0 && dry.1.contains("would remove 0 files"))
    }
}
