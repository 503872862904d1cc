// `zkswift txnlog dump|verify FILE`: reads one transaction log with the
// server's own reader (ZKPersistence.TxnLogFile), so what the tool accepts is
// exactly what recovery accepts, and reports records, torn tails and damage.
import Foundation
import NIOCore
import ZKJute
import ZKPersistence

/// Damage that is not a torn tail, in TxnLogCorruption's wording (whose
/// initializer is not public, and the tool finds one kind of damage itself).
struct LogDamage: Equatable {
    var file: String
    var offset: Int
    var reason: String
    var description: String { "\(file): corrupt record at offset \(offset): \(reason)" }
}

/// What reading a whole log found; `corruption` set means exit status 1.
struct TxnLogScan {
    var path: String
    var count = 0
    var firstZxid: Int64?
    var lastZxid: Int64?
    var torn: TornTail?
    var corruption: LogDamage?
    /// Oddities that do not stop recovery (they do not change the exit status).
    var notes: [String] = []
}

enum TxnLogTool {
    /// Apache's limit on a record (jute.maxbuffer default), doubled plus slack
    /// as the server's recovery does, so the tool never rejects what it loads.
    static let defaultMaxRecordBytes = 0xfffff * 2 + 1024

    /// Reads every record of `path`, treating the file as the newest log (so a
    /// damaged last record followed only by zeros is a torn tail, not corruption).
    /// Throws only when the file cannot be read at all.
    static func scan(_ path: String, maxRecordBytes: Int = defaultMaxRecordBytes,
                     _ each: (TxnLogFormat.Record) -> Void = { _ in }) throws -> TxnLogScan {
        var s = TxnLogScan(path: path)
        if let why = Files.problem(path) { throw PersistenceError("cannot read \(path): \(why)") }
        let nameZxid = DataDirectory.zxid(of: (path as NSString).lastPathComponent, prefix: "log")
        let file = try TxnLogFile(path: path, startZxid: nameZxid ?? 0)
        var lastOffset: Int?
        do {
            let outcome = try file.forEachRecord(isLast: true, maxRecordBytes: maxRecordBytes) { r in
                if let prev = s.lastZxid, r.hdr.zxid <= prev {
                    s.notes.append("offset \(r.offset): zxid \(Format.hex(r.hdr.zxid)) does not follow \(Format.hex(prev))")
                }
                if r.hdr.type == OpCode.check.rawValue {
                    s.notes.append("offset \(r.offset): top-level check record (type 13); Apache 3.8.0-3.8.4 cannot read this log back")
                }
                s.count += 1
                if s.firstZxid == nil { s.firstZxid = r.hdr.zxid }
                s.lastZxid = r.hdr.zxid
                lastOffset = r.offset
                each(r)
            }
            // The reader calls damage torn only when no valid record follows it.
            if case .torn(let tail) = outcome { s.torn = tail }
        } catch let c as TxnLogCorruption {
            s.corruption = LogDamage(file: c.file, offset: c.offset, reason: c.reason)
            return s
        }
        if let nameZxid, let first = s.firstZxid, first != nameZxid {
            s.notes.append("first zxid \(Format.hex(first)) differs from the zxid in the file name \(Format.hex(nameZxid))")
        }
        // The reader stops at the first zero length, as Apache's does. Records
        // behind a zeroed header would be lost without a word, so a clean end
        // must be followed by nothing but zeros.
        if s.torn == nil {
            let end = try endOfRecords(path, lastRecordOffset: lastOffset)
            if let nz = try firstNonZero(path, from: end) {
                s.corruption = LogDamage(file: path, offset: end,
                    reason: "the log ends here (zero length) but non-zero bytes follow at offset \(nz)")
            }
        }
        return s
    }

    /// Offset just past the last record (the header's end if there is none).
    static func endOfRecords(_ path: String, lastRecordOffset: Int?) throws -> Int {
        guard let off = lastRecordOffset else { return TxnLogFormat.headerBytes }
        guard let h = FileHandle(forReadingAtPath: path) else { throw PersistenceError("cannot read \(path)") }
        defer { try? h.close() }
        try h.seek(toOffset: UInt64(off + 8))
        let d = try h.read(upToCount: 4) ?? Data()
        guard d.count == 4 else { throw PersistenceError("\(path): short read at offset \(off + 8)") }
        let len = d.reduce(0) { ($0 << 8) | Int($1) }
        return off + 12 + len + 1
    }

    /// The first non-zero byte at or after `from`, read in 1 MiB steps (a
    /// preallocated log is 64 MiB, almost all zeros).
    static func firstNonZero(_ path: String, from: Int) throws -> Int? {
        guard let h = FileHandle(forReadingAtPath: path) else { throw PersistenceError("cannot read \(path)") }
        defer { try? h.close() }
        try h.seek(toOffset: UInt64(from))
        var pos = from
        while let d = try h.read(upToCount: 1 << 20), !d.isEmpty {
            if let i = firstNonZero(in: d) { return pos + i }
            pos += d.count
        }
        return nil
    }

    /// Eight bytes at a time: a debug build checking a 64 MiB log byte by byte takes seconds.
    static func firstNonZero(in d: Data) -> Int? {
        d.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int? in
            let words = raw.count / 8
            var w = 0
            while w < words {
                if raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self) != 0 { break }
                w += 1
            }
            var i = w * 8
            while i < raw.count {
                if raw[i] != 0 { return i }
                i += 1
            }
            return nil
        }
    }

    static func zxidRange(_ s: TxnLogScan) -> String {
        guard let a = s.firstZxid, let b = s.lastZxid else { return "" }
        return ", zxid \(Format.hex(a)) to \(Format.hex(b))"
    }

    static func tornText(_ t: TornTail) -> String { "torn tail at offset \(t.offset) (\(t.reason))" }

    /// One line per txn, a torn-tail line if any, then "N txns"; damage goes to
    /// stderr after the records that preceded it.
    static func dump(_ path: String, maxRecordBytes: Int = defaultMaxRecordBytes, to sink: Sink) -> Int32 {
        let s: TxnLogScan
        do {
            s = try scan(path, maxRecordBytes: maxRecordBytes) { sink.out(TxnText.line($0)) }
        } catch {
            sink.err("zkswift: \(error)")
            return Status.unreadable
        }
        for n in s.notes { sink.err("note: \(path): \(n)") }
        if let c = s.corruption {
            sink.err(c.description)
            return Status.corrupt
        }
        if let t = s.torn { sink.out(tornText(t)) }
        sink.out("\(s.count) txns")
        return Status.ok
    }

    /// One summary line; status 0 for a sound log (a torn tail is reported but
    /// is what a crash leaves, and recovery cuts it off), 1 for corruption.
    static func verify(_ path: String, maxRecordBytes: Int = defaultMaxRecordBytes, to sink: Sink) -> Int32 {
        let s: TxnLogScan
        do {
            s = try scan(path, maxRecordBytes: maxRecordBytes)
        } catch {
            sink.err("zkswift: \(error)")
            return Status.unreadable
        }
        for n in s.notes { sink.err("note: \(path): \(n)") }
        if let c = s.corruption {
            sink.out(c.description)
            return Status.corrupt
        }
        let verdict = s.torn.map(tornText) ?? "ok"
        sink.out("\(path): \(s.count) txns\(zxidRange(s)), \(verdict)")
        return Status.ok
    }
}
