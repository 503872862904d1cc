// Logs written by FileTxnLog and read back by TxnLogFile: file naming,
// preallocation, and the line between a torn tail (a crash during the last
// write: end of log) and corruption (anything else: recovery must stop).
import Foundation
import NIOCore
import Testing
import ZKJute
import ZKPersistence

@Suite struct TxnLogReaderTests {
    static let acl = ACL.openACLUnsafe
    static let maxRecord = 0xfffff * 2 + 1024

    /// `count` creates (zxid 1...count) in one log file; returns its path.
    static func writeLog(in dir: String, count: Int, firstZxid: Int64 = 1, preAlloc: Int = 4096, digests: Bool = true) throws -> String {
        let log = FileTxnLog(dir: dir, preAllocSize: preAlloc, forceSync: false)
        for i in 0..<count {
            let z = firstZxid + Int64(i)
            let h = TxnHeader(clientId: 0x0100_0000_0000_0001, cxid: Int32(i), zxid: z, time: 1_700_000_000_000 + z,
                              type: OpCode.create.rawValue)
            let t = Txn.create(CreateTxn(path: "/n\(z)", data: Array("data \(z)".utf8), acl: acl, ephemeral: i % 2 == 0,
                                         parentCVersion: Int32(i + 1)))
            try log.append(h, t, digest: digests && i % 3 != 2 ? TxnDigest(version: 2, treeDigest: z * 1000) : nil)
            if i % 4 == 3 { try log.commit() }
        }
        log.close()
        return (dir as NSString).appendingPathComponent(DataDirectory.name("log", firstZxid))
    }

    static func read(_ path: String, isLast: Bool = true) throws -> ([TxnLogFormat.Record], TxnLogFile.Outcome) {
        let f = try TxnLogFile(path: path, startZxid: DataDirectory.zxid(of: (path as NSString).lastPathComponent, prefix: "log") ?? 0)
        var rs: [TxnLogFormat.Record] = []
        let o = try f.forEachRecord(isLast: isLast, maxRecordBytes: maxRecord) { rs.append($0) }
        return (rs, o)
    }

    /// Offsets of each record and the end of the last one.
    static func layout(_ path: String) throws -> (offsets: [Int], end: Int) {
        let (rs, _) = try read(path)
        let b = try readBytes(path)
        let last = rs.last!.offset
        let len = Int(ByteBuffer(bytes: b).getInteger(at: last + 8, as: Int32.self)!)
        return (rs.map(\.offset), last + 12 + len + 1)
    }

    @Test func writesApacheNamesHeaderAndPreallocation() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try Self.writeLog(in: dir, count: 10, firstZxid: 0x1_0000_002a)
        #expect((path as NSString).lastPathComponent == "log.10000002a")
        let b = try readBytes(path)
        #expect(Array(b[..<16]) == TxnLogFormat.fileHeader())
        let (_, end) = try Self.layout(path)
        // Zero-filled to at least 4 KiB past the data: as Apache's FilePadding,
        // 16 header bytes plus whole preAllocSize steps (4096 in writeLog).
        #expect((b.count - 16) % 4096 == 0 && b.count >= end + 4096)
        #expect(b[end...].allSatisfy { $0 == 0 })
        let (rs, outcome) = try Self.read(path)
        #expect(outcome == .clean)
        #expect(rs.map(\.hdr.zxid) == (0..<10).map { 0x1_0000_002a + Int64($0) })
        #expect(rs.map { $0.digest == nil } == (0..<10).map { $0 % 3 == 2 })
        if case .create(let c) = rs[3].txn { #expect(c.path == "/n\(0x1_0000_002d)") } else { Issue.record("not a create") }
    }

    /// Cut the file anywhere inside the last record, with or without the
    /// preallocated zeros after the cut: the records before it all come back,
    /// and the last one is reported as a torn tail at its offset — unless the
    /// bytes that survived are all zeros, which is indistinguishable from a
    /// record never written (the checksum's upper half is always zero).
    @Test func truncationInsideLastRecordIsTorn() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try Self.writeLog(in: dir, count: 6)
        let original = try readBytes(path)
        let (offsets, end) = try Self.layout(path)
        let last = offsets.last!
        let cutPath = dir + "/cut/log.1"
        try FileManager.default.createDirectory(atPath: dir + "/cut", withIntermediateDirectories: true)
        for cut in (last + 1)..<end {
            for padded in [false, true] {
                var b = Array(original[..<cut])
                if padded { b += [UInt8](repeating: 0, count: original.count - cut) }
                try writeBytes(b, cutPath)
                let (rs, outcome) = try Self.read(cutPath)
                #expect(rs.count == 5, "cut at \(cut) padded \(padded)")
                if original[last..<cut].allSatisfy({ $0 == 0 }) {
                    #expect(outcome == .clean, "cut at \(cut) padded \(padded)")
                } else {
                    guard case .torn(let t) = outcome else {
                        Issue.record("cut at \(cut) padded \(padded): \(outcome), expected torn"); continue
                    }
                    #expect(t.offset == last && t.file == cutPath, "cut at \(cut) padded \(padded)")
                }
            }
        }
    }

    /// A damaged last record followed by zeros (a write torn inside, as a
    /// sector that never reached the disk leaves it) is torn, not corrupt.
    @Test func damagedLastRecordBeforeZerosIsTorn() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try Self.writeLog(in: dir, count: 5)
        let original = try readBytes(path)
        let (offsets, end) = try Self.layout(path)
        let last = offsets.last!
        for i in (last + 12)..<end {
            var b = original
            b[i] = 0    // bytes the crash did not write read as zeros
            if b == original { continue }
            try writeBytes(b, path)
            let (rs, outcome) = try Self.read(path)
            #expect(rs.count == 4)
            guard case .torn(let t) = outcome else { Issue.record("zeroed byte \(i): \(outcome), expected torn"); continue }
            #expect(t.offset == last && t.file == path, "zeroed byte \(i)")
        }
    }

    /// Flip any byte of a record that has records after it — other than its
    /// length field (see the next test) — and reading fails with
    /// TxnLogCorruption naming that record's offset, in the newest log too.
    @Test func flippedByteInMiddleRecordIsCorruption() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try Self.writeLog(in: dir, count: 6)
        let original = try readBytes(path)
        let (offsets, _) = try Self.layout(path)
        for victim in [0, 2, 4] {
            let start = offsets[victim], stop = offsets[victim + 1]
            for i in start..<stop where !(start + 8..<start + 12).contains(i) {
                var b = original
                b[i] ^= 0x5a
                try writeBytes(b, path)
                for isLast in [true, false] {
                    #expect(throws: TxnLogCorruption.self, "byte \(i) of record \(victim), isLast \(isLast)") {
                        _ = try Self.read(path, isLast: isLast)
                    }
                    do { _ = try Self.read(path, isLast: isLast) } catch let e as TxnLogCorruption {
                        #expect(e.offset == start && e.file == path, "byte \(i): \(e)")
                    }
                }
            }
        }
    }

    /// In a log that is not the newest, every flipped byte (length included) is corruption.
    @Test func anyDamageInOlderLogIsCorruption() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try Self.writeLog(in: dir, count: 4)
        let original = try readBytes(path)
        let (offsets, end) = try Self.layout(path)
        for i in 16..<end {
            var b = original
            b[i] ^= 0xff
            try writeBytes(b, path)
            let record = offsets.last { $0 <= i }!
            do {
                let (rs, o) = try Self.read(path, isLast: false)
                Issue.record("byte \(i): read \(rs.count) records, \(o)")
            } catch let e as TxnLogCorruption {
                #expect(e.offset == record, "byte \(i)")
            }
        }
    }

    /// BUG (TxnLogReader.swift, TxnLogFile.forEachRecord, `.damaged` case): a
    /// middle record whose length field is unusable (negative, zero with a
    /// non-zero checksum, or above the limit) in the newest log is taken for a
    /// torn tail: TxnLogFormat.step gives no record end for it, and
    /// `recordEnd ?? fileSize` then checks for zeros from the end of the file,
    /// which always passes. Every later record is silently dropped, and
    /// restore() cuts the file there, deleting acknowledged transactions.
    /// (The compat suite's "garbage" torn-tail case, where the last record's
    /// length is garbage, must stay torn: decide by whether a valid record
    /// starts anywhere after the damage.)
    @Test func badLengthInMiddleOfNewestLogIsCorruption() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try Self.writeLog(in: dir, count: 6)
        let original = try readBytes(path)
        let (offsets, _) = try Self.layout(path)
        let victim = offsets[2]
        for (byte, value) in [(8, UInt8(0xff)), (8, 0x80), (9, 0x40), (8, 0x00)] {
            var b = original
            b[victim + byte] = value
            if byte == 8 && value == 0 { b[victim + 8..<victim + 12] = [0, 0, 0, 0] }   // length 0, checksum not 0
            try writeBytes(b, path)
            #expect(throws: TxnLogCorruption.self, "length byte \(byte) = \(value)") {
                let (rs, o) = try Self.read(path)
                print("length byte \(byte)=\(value): read \(rs.count) records then \(o)")
            }
        }
    }

    /// The same bug seen from recovery: restore() cuts the newest log at the
    /// damaged record and comes up without the later transactions.
    @Test func restoreDoesNotCutOffRecordsAfterABadLength() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let snapLog = try FileTxnSnapLog(dataDir: dir, dataLogDir: dir)
        try writeFreshSnapshot(snapLog)
        let path = try Self.writeLog(in: snapLog.logDir, count: 6)
        let (offsets, _) = try Self.layout(path)
        var b = try readBytes(path)
        b[offsets[2] + 8] = 0xff
        try writeBytes(b, path)
        let sizeBefore = b.count
        #expect(throws: TxnLogCorruption.self) { _ = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord) }
        #expect(try readBytes(path).count == sizeBefore, "restore must not truncate a corrupt log")
    }

    /// Recovery cuts a torn tail off so Apache, which would stop there anyway, and
    /// the next start see a clean log; the records before it are replayed.
    @Test func restoreCutsTornTail() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let snapLog = try FileTxnSnapLog(dataDir: dir, dataLogDir: dir)
        try writeFreshSnapshot(snapLog)
        let path = try Self.writeLog(in: snapLog.logDir, count: 5)
        let (offsets, end) = try Self.layout(path)
        var b = try readBytes(path)
        b[end - 1] = 0       // the last record's end marker never made it
        try writeBytes(b, path)
        let r = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(r.tornTail?.offset == offsets[4])
        #expect(r.replayed == 4 && r.lastZxid == 4)
        #expect(r.tree.getNode("/n4") != nil && r.tree.getNode("/n5") == nil)
        #expect(try readBytes(path).count == offsets[4])
        let again = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(again.tornTail == nil && again.lastZxid == 4)
    }

    /// BUG (FileTxnSnapLog.cutOff + FileTxnLog.append): when the newest log holds
    /// no whole record — its first record torn, or only the header reached the
    /// disk — recovery leaves `log.<N>` in place (truncated to the 16-byte
    /// header, or untouched) with the tree at N-1. The next transaction, N, is
    /// appended to a new file of that same name, which PosixFile opens with
    /// O_EXCL: "File exists", and the SyncThread calls fatal(). Every restart
    /// ends the same way until someone deletes the file by hand. (Apache's
    /// FileTxnLog opens with FileOutputStream, which truncates.)
    @Test(arguments: [true, false])
    func logWithoutWholeRecordsDoesNotBlockTheNextAppend(tornFirstRecord: Bool) throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let snapLog = try FileTxnSnapLog(dataDir: dir, dataLogDir: dir)
        try writeFreshSnapshot(snapLog)
        let path = try Self.writeLog(in: snapLog.logDir, count: 1)
        let (_, end) = try Self.layout(path)
        var b = try readBytes(path)
        if tornFirstRecord {
            b[end - 1] = 0                                  // first record lacks its end marker
        } else {
            b[16..<end] = ArraySlice(repeating: 0, count: end - 16)   // only the header made it
        }
        try writeBytes(b, path)
        let r = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(r.lastZxid == 0 && r.tree.getNode("/n1") == nil)
        let log = FileTxnLog(dir: snapLog.logDir, preAllocSize: 4096, forceSync: false, lastZxid: r.lastZxid)
        let h = TxnHeader(clientId: 5, cxid: 1, zxid: 1, time: 1, type: OpCode.create.rawValue)
        #expect(throws: Never.self, "appending zxid 1 after recovery") {
            try log.append(h, .create(CreateTxn(path: "/again", data: [], acl: Self.acl, ephemeral: false, parentCVersion: 1)))
            try log.commit()
        }
        log.close()
        let again = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        #expect(again.tree.getNode("/again") != nil)
    }

    /// Only the newest log may end torn; the same damage in an older one stops recovery.
    @Test func tornRecordInOlderLogStopsRestore() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let snapLog = try FileTxnSnapLog(dataDir: dir, dataLogDir: dir)
        try writeFreshSnapshot(snapLog)
        let first = try Self.writeLog(in: snapLog.logDir, count: 5)
        _ = try Self.writeLog(in: snapLog.logDir, count: 3, firstZxid: 6)
        let (_, end) = try Self.layout(first)
        var b = try readBytes(first)
        b[end - 1] = 0
        try writeBytes(b, first)
        #expect(throws: TxnLogCorruption.self) { _ = try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord) }
    }

    @Test func badMagicIsCorruption() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let path = try Self.writeLog(in: dir, count: 2)
        var b = try readBytes(path)
        b[0] = 0x00
        try writeBytes(b, path)
        #expect { _ = try Self.read(path) } throws: { ($0 as? TxnLogCorruption)?.offset == 0 }
    }

    /// FileTxnLog.getLogFiles: the logs from a zxid on, plus the newest one before it.
    @Test func logFileSelection() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        for z in [1, 0x13, 0x20, 0x35] as [Int64] {
            try writeBytes([], dir + "/" + DataDirectory.name("log", z))
        }
        try writeBytes([], dir + "/log.zz")
        try writeBytes([], dir + "/snapshot.5")
        func pick(_ z: Int64) -> [Int64] { TxnLogReader.files(in: dir, from: z).map(\.zxid) }
        #expect(pick(1) == [1, 0x13, 0x20, 0x35])
        #expect(pick(0x12) == [1, 0x13, 0x20, 0x35])
        #expect(pick(0x13) == [0x13, 0x20, 0x35])
        #expect(pick(0x21) == [0x20, 0x35])
        #expect(pick(0x100) == [0x35])
        #expect(pick(0) == [1, 0x13, 0x20, 0x35])
    }
}

/// snapshot.0 of an empty tree, as a fresh server writes it.
func writeFreshSnapshot(_ snapLog: FileTxnSnapLog) throws {
    try snapLog.writeSnapshot(ByteBuffer(bytes: SnapshotFormatTests.freshTree()), zxid: 0, fsync: false)
}
