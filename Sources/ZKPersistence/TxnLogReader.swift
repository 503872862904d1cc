// Reads the transaction logs back for recovery and for `zkswift txnlog`.
// A damaged record at the very end of the newest log (a write torn by a
// crash: short, or with a bad checksum, followed only by zeros) ends the log
// and is reported so it can be cut off; damage anywhere else is corruption.
import Foundation
import NIOCore
import ZKJute

public struct TxnLogCorruption: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var offset: Int
    public var reason: String
    public var description: String { "\(file): corrupt record at offset \(offset): \(reason)" }
}

public struct TornTail: Equatable, Sendable {
    public var file: String
    public var offset: Int
    public var reason: String
}

/// One log file, read in chunks as records are consumed: a log is
/// preallocated to 64 MiB of zeros, and reading stops at the first of them.
public final class TxnLogFile {
    public let path: String
    public let startZxid: Int64
    private let handle: FileHandle
    public let fileSize: Int
    private(set) var bytes = ByteBuffer()
    private static let chunk = 1 << 20

    public init(path: String, startZxid: Int64) throws(PersistenceError) {
        self.path = path
        self.startZxid = startZxid
        guard let h = FileHandle(forReadingAtPath: path) else { throw PersistenceError("cannot read \(path)") }
        handle = h
        fileSize = Int((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.intValue ?? 0)
    }

    deinit { try? handle.close() }

    /// Loads the file up to `count` bytes (or its end).
    func ensure(_ count: Int) {
        while bytes.writerIndex < min(count, fileSize) {
            let want = max(count - bytes.writerIndex, Self.chunk)
            guard let d = try? handle.read(upToCount: want), !d.isEmpty else { return }
            bytes.writeBytes(d)
        }
    }

    public var hasValidHeader: Bool {
        ensure(TxnLogFormat.headerBytes)
        return bytes.writerIndex >= TxnLogFormat.headerBytes && bytes.getInteger(at: 0, as: Int32.self) == TxnLogFormat.magic
    }

    /// Whether a record with a good length, marker and checksum starts
    /// anywhere after `offset` (only up to the last non-zero byte: the
    /// preallocated tail is zeros).
    private func validRecordFollows(_ offset: Int, maxRecordBytes: Int) -> Bool {
        ensure(fileSize)
        // The preallocated tail is megabytes of zeros: skip it a word at a time.
        let used = bytes.withUnsafeReadableBytes { raw -> Int in
            var i = raw.count
            while i >= 8, raw.loadUnaligned(fromByteOffset: i - 8, as: UInt64.self) == 0 { i -= 8 }
            while i > 0, raw[i - 1] == 0 { i -= 1 }
            return i
        }
        var at = offset + 1
        while at + 12 < used {
            if let len = bytes.getInteger(at: at + 8, as: Int32.self), len > 0, Int(len) <= maxRecordBytes,
               case .record = TxnLogFormat.step(bytes, at: at, maxRecordBytes: maxRecordBytes) {
                return true
            }
            at += 1
        }
        return false
    }

    private func allZeroToEnd(from: Int) -> Bool {
        ensure(fileSize)
        return TxnLogFormat.allZero(bytes, from: from)
    }

    public enum Outcome: Equatable {
        case clean
        case torn(TornTail)
    }

    /// Calls `body` for every record in order. `isLast` says whether damage may
    /// be a torn tail (only in the newest file, with nothing but zeros after it).
    public func forEachRecord(isLast: Bool, maxRecordBytes: Int,
                              _ body: (TxnLogFormat.Record) throws -> Void) throws -> Outcome {
        guard hasValidHeader else {
            // A crash right after creating the file can leave it empty or short.
            if isLast && allZeroToEnd(from: 0) { return .torn(TornTail(file: path, offset: 0, reason: "empty log file")) }
            if isLast && fileSize < TxnLogFormat.headerBytes {
                return .torn(TornTail(file: path, offset: 0, reason: "truncated file header"))
            }
            throw TxnLogCorruption(file: path, offset: 0, reason: "bad magic number")
        }
        var offset = TxnLogFormat.headerBytes
        while true {
            ensure(offset + 12)
            if let len = bytes.getInteger(at: offset + 8, as: Int32.self), len > 0, Int(len) <= maxRecordBytes {
                ensure(offset + 12 + Int(len) + 1)
            }
            switch TxnLogFormat.step(bytes, at: offset, maxRecordBytes: maxRecordBytes) {
            case .end:
                return .clean
            case .record(let r, let next):
                try body(r)
                offset = next
            case .damaged(let at, let reason, _):
                // A crash tears only the last write: damage is a torn tail when
                // no whole, valid record follows it. A valid record after it
                // means the damage is in the middle, and cutting would lose data.
                if isLast && !validRecordFollows(at, maxRecordBytes: maxRecordBytes) {
                    return .torn(TornTail(file: path, offset: at, reason: reason))
                }
                throw TxnLogCorruption(file: path, offset: at, reason: reason)
            }
        }
    }
}

public enum TxnLogReader {
    /// Log files holding zxids >= `from`: those starting at or after it plus the
    /// newest one that starts before it (FileTxnLog.getLogFiles).
    public static func files(in dir: String, from zxid: Int64) -> [(zxid: Int64, path: String)] {
        let all = DataDirectory.list(dir, prefix: "log")
        var out: [(zxid: Int64, path: String)] = []
        var before: (zxid: Int64, path: String)? = nil
        for f in all {
            if f.zxid <= zxid { before = f } else { out.append(f) }
        }
        if let before { out.insert(before, at: 0) }
        return out
    }
}
