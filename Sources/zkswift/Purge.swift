// `zkswift purge DIR -n N`: removes old snapshots and the logs only they need,
// by the rule of Apache's PurgeTxnLog (disk-format.md §7). The decision is a
// pure function of file names and snapshot validity so it can be tested alone.
import Foundation
import ZKPersistence

struct PurgeInput: Equatable {
    var name: String
    var zxid: Int64
    /// Snapshots only: passes the pre-check Apache uses to count a snapshot (§5.3).
    var valid: Bool = true
}

struct PurgePlan: Equatable {
    /// The newest `retain` valid snapshots, newest first.
    var retained: [String] = []
    /// zxid of the oldest retained snapshot (S in §7); nil = nothing to go by.
    var oldestRetainedZxid: Int64?
    var deleteLogs: [String] = []
    var deleteSnapshots: [String] = []
}

enum Purge {
    /// Apache refuses fewer (PurgeTxnLog: "count should be greater than or equal to 3").
    static let minimumRetain = 3

    /// §7: S = zxid of the oldest of the newest `retain` valid snapshots;
    /// delete snapshots older than S and logs older than the newest log that
    /// starts at or before S (that one may hold the txns right after S).
    static func plan(snapshots: [PurgeInput], logs: [PurgeInput], retain: Int) -> PurgePlan {
        precondition(retain >= minimumRetain)
        var p = PurgePlan()
        let kept = snapshots.filter(\.valid).sorted { $0.zxid > $1.zxid }.prefix(retain)
        // No valid snapshot: nothing may go, the logs are all there is.
        guard let oldest = kept.last else { return p }
        p.retained = kept.map(\.name)
        p.oldestRetainedZxid = oldest.zxid
        let s = oldest.zxid
        // Apache starts from 0 (FileTxnLog.getLogFiles), so with no log at or
        // before S no log is removed.
        let firstNeededLog = logs.filter { $0.zxid <= s }.map(\.zxid).max() ?? 0
        p.deleteLogs = logs.filter { $0.zxid < firstNeededLog }.sorted { $0.zxid < $1.zxid }.map(\.name)
        // Invalid or temporary snapshots older than S go too, as in Apache.
        p.deleteSnapshots = snapshots.filter { $0.zxid < s }.sorted { $0.zxid < $1.zxid }.map(\.name)
        return p
    }

    /// The §5.3 pre-check on a file, reading only its ends (snapshots can be
    /// gigabytes). `.tmp` files are never counted: they are snapshots being
    /// written (Apache would count one that happens to be complete, and then
    /// keep one real snapshot fewer).
    static func looksValid(_ path: String) -> Bool {
        if path.hasSuffix(".tmp") { return false }
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        if path.hasSuffix(".gz") {
            return (try? h.read(upToCount: 2)) == Data([0x1f, 0x8b])
        }
        if path.hasSuffix(".snappy") {
            // snappy-java's stream header (SnappyCodec.MAGIC_HEADER).
            return (try? h.read(upToCount: 8)) == Data([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
        }
        guard let size = try? h.seekToEnd(), size >= 10 else { return false }
        guard (try? h.seek(toOffset: size - 5)) != nil, let tail = try? h.read(upToCount: 5) else { return false }
        return Array(tail) == [0, 0, 0, 1, 0x2f]   // the final "/" (SnapshotFormat.looksComplete)
    }

    /// `dir` itself when it is a version-2 directory, else `dir/version-2`.
    static func versionDir(_ dir: String) -> String? {
        var isDir: ObjCBool = false
        let v = DataDirectory.versionPath(dir)
        if FileManager.default.fileExists(atPath: v, isDirectory: &isDir), isDir.boolValue { return v }
        if (dir as NSString).lastPathComponent == DataDirectory.versionDir,
           FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue { return dir }
        return nil
    }

    static func run(dataDir: String, logDir: String?, retain: Int, dryRun: Bool, to sink: Sink) -> Int32 {
        guard let snapDir = versionDir(dataDir) else {
            sink.err("zkswift: \(dataDir) holds no \(DataDirectory.versionDir) directory")
            return Status.unreadable
        }
        guard let logVersionDir = versionDir(logDir ?? dataDir) else {
            sink.err("zkswift: \(logDir ?? dataDir) holds no \(DataDirectory.versionDir) directory")
            return Status.unreadable
        }
        let snaps = DataDirectory.list(snapDir, prefix: "snapshot")
        let logs = DataDirectory.list(logVersionDir, prefix: "log")
        if snapDir != logVersionDir {
            // Apache refuses mixed directories too (FileTxnSnapLog's constructor):
            // the rule would otherwise judge files it cannot see.
            if !DataDirectory.list(logVersionDir, prefix: "snapshot").isEmpty || !DataDirectory.list(snapDir, prefix: "log").isEmpty {
                sink.err("zkswift: \(logVersionDir) holds snapshots or \(snapDir) holds logs; refusing to purge mixed directories")
                return Status.unreadable
            }
        }
        let name = { (p: String) in (p as NSString).lastPathComponent }
        let plan = plan(snapshots: snaps.map { PurgeInput(name: name($0.path), zxid: $0.zxid, valid: looksValid($0.path)) },
                        logs: logs.map { PurgeInput(name: name($0.path), zxid: $0.zxid) },
                        retain: retain)
        guard let s = plan.oldestRetainedZxid else {
            sink.out("no valid snapshot in \(snapDir); nothing removed")
            return Status.ok
        }
        sink.out("keeping \(plan.retained.count) snapshots down to zxid \(Format.hex(s)): \(plan.retained.joined(separator: " "))")
        var failed = 0
        let victims = plan.deleteLogs.map { (logVersionDir as NSString).appendingPathComponent($0) }
            + plan.deleteSnapshots.map { (snapDir as NSString).appendingPathComponent($0) }
        for path in victims {
            if dryRun {
                sink.out("would remove \(path)")
                continue
            }
            do {
                try FileManager.default.removeItem(atPath: path)
                sink.out("removed \(path)")
            } catch {
                sink.err("zkswift: cannot remove \(path): \(error.localizedDescription)")
                failed += 1
            }
        }
        sink.out(dryRun ? "would remove \(victims.count) files" : "removed \(victims.count - failed) files")
        return failed == 0 ? Status.ok : Status.corrupt
    }
}
