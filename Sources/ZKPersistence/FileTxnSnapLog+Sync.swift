// What a quorum member's disk does for learner sync (quorum-protocol.md §6):
// a learner told TRUNC cuts its log after a zxid, and a leader sends a
// learner that is a little behind the proposals from its txn log instead of
// a snapshot when those logs are small enough.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import ZKJute

extension FileTxnSnapLog {
    /// Cuts the logs so that `zxid` is the last txn in them
    /// (FileTxnLog.truncate): the file holding it ends right after it, later
    /// files go. Snapshots newer than `zxid` go too, since they may hold the
    /// txns cut off (Apache 3.8 keeps them and could reload them).
    public func truncateLog(to zxid: Int64, maxRecordBytes: Int) throws {
        let logs = TxnLogReader.files(in: logDir, from: zxid)
        guard let first = logs.first, first.zxid <= zxid else {
            throw PersistenceError("\(logDir): no log file holds zxid 0x\(String(zxid, radix: 16)) to truncate after")
        }
        let file = try TxnLogFile(path: first.path, startZxid: first.zxid)
        var cut: Int? = nil
        _ = try file.forEachRecord(isLast: logs.count == 1, maxRecordBytes: maxRecordBytes) { r in
            if cut == nil && r.hdr.zxid > zxid { cut = r.offset }
        }
        if let cut {
            let f = try PosixFile(path: first.path, create: false)
            try f.truncate(to: cut)
            try f.sync(dataOnly: false)
            f.close()
        }
        for later in logs.dropFirst() { try FileManager.default.removeItem(atPath: later.path) }
        for s in DataDirectory.list(snapDir, prefix: "snapshot") where s.zxid > zxid {
            try FileManager.default.removeItem(atPath: s.path)
        }
        PosixFile.syncDirectory(logDir)
        if snapDir != logDir { PosixFile.syncDirectory(snapDir) }
    }

    /// After a SNAP from the leader is on disk as the snapshot of `zxid`: the
    /// logs and any newer snapshots hold a history the leader replaced, and
    /// must not be replayed on top of it.
    public func discardHistory(after zxid: Int64) throws {
        for f in DataDirectory.list(logDir, prefix: "log") { try FileManager.default.removeItem(atPath: f.path) }
        for s in DataDirectory.list(snapDir, prefix: "snapshot") where s.zxid > zxid {
            try FileManager.default.removeItem(atPath: s.path)
        }
        PosixFile.syncDirectory(logDir)
        if snapDir != logDir { PosixFile.syncDirectory(snapDir) }
    }

    /// Proposals from the logs, starting with `startZxid` itself, for a
    /// learner whose last txn is `startZxid` (ZKDatabase.getProposalsFromTxnLog).
    /// nil when the logs cannot serve it: sizeLimit < 0 (disabled), the logs
    /// start after `startZxid`, or the files involved total more than
    /// sizeLimit bytes (when sizeLimit > 0).
    public func proposals(from startZxid: Int64, sizeLimit: Int64, maxRecordBytes: Int) throws -> [(zxid: Int64, payload: [UInt8])]? {
        guard sizeLimit >= 0 else { return nil }
        let logs = TxnLogReader.files(in: logDir, from: startZxid)
        guard let first = logs.first, first.zxid <= startZxid else { return nil }
        if sizeLimit > 0 {
            let size = logs.reduce(Int64(0)) { total, f in
                total + ((try? FileManager.default.attributesOfItem(atPath: f.path)[.size] as? NSNumber)??.int64Value ?? 0)
            }
            if size > sizeLimit { return nil }
        }
        return try records(from: startZxid, in: logs, maxRecordBytes: maxRecordBytes).map {
            ($0.hdr.zxid, Array(TxnLogFormat.payload($0.hdr, $0.txn, digest: $0.digest).readableBytesView))
        }
    }

    /// The logged txns from `startZxid` on, in order: what a server that
    /// applied everything before it has not applied yet.
    public func records(from startZxid: Int64, maxRecordBytes: Int) throws -> [TxnLogFormat.Record] {
        try records(from: startZxid, in: TxnLogReader.files(in: logDir, from: startZxid), maxRecordBytes: maxRecordBytes)
    }

    private func records(from startZxid: Int64, in logs: [(zxid: Int64, path: String)],
                         maxRecordBytes: Int) throws -> [TxnLogFormat.Record] {
        var out: [TxnLogFormat.Record] = []
        for (i, f) in logs.enumerated() {
            let file = try TxnLogFile(path: f.path, startZxid: f.zxid)
            _ = try file.forEachRecord(isLast: i == logs.count - 1, maxRecordBytes: maxRecordBytes) { r in
                if r.hdr.zxid >= startZxid { out.append(r) }
            }
        }
        return out
    }

    /// snapshotSizeFactor times the newest snapshot's size: how much log a
    /// leader reads for a learner before it prefers SNAP (calculateTxnLogSizeLimit).
    public func txnLogSizeLimit(snapshotSizeFactor: Double) -> Int64 {
        guard snapshotSizeFactor >= 0 else { return -1 }
        guard let newest = DataDirectory.list(snapDir, prefix: "snapshot").last(where: { !$0.path.hasSuffix(".tmp") }),
              let size = (try? FileManager.default.attributesOfItem(atPath: newest.path)[.size] as? NSNumber)??.int64Value
        else { return 0 }
        return Int64(Double(size) * snapshotSizeFactor)
    }
}
