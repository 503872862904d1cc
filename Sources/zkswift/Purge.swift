// `zkswift purge DIR -n N`: removes old snapshots and the logs only they need,
// by the rule of Apache's PurgeTxnLog (disk-format.md §7, ZKPersistence's
// PurgeTxnLog), saying what it removes.
import Foundation
import ZKPersistence

enum Purge {
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
        if snapDir != logVersionDir {
            // Apache refuses mixed directories too (FileTxnSnapLog's constructor):
            // the rule would otherwise judge files it cannot see.
            if !DataDirectory.list(logVersionDir, prefix: "snapshot").isEmpty || !DataDirectory.list(snapDir, prefix: "log").isEmpty {
                sink.err("zkswift: \(logVersionDir) holds snapshots or \(snapDir) holds logs; refusing to purge mixed directories")
                return Status.unreadable
            }
        }
        let (plan, victims) = PurgeTxnLog.plan(snapDir: snapDir, logDir: logVersionDir, retain: retain)
        guard let s = plan.oldestRetainedZxid else {
            sink.out("no valid snapshot in \(snapDir); nothing removed")
            return Status.ok
        }
        sink.out("keeping \(plan.retained.count) snapshots down to zxid \(Format.hex(s)): \(plan.retained.joined(separator: " "))")
        var failed = 0
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
