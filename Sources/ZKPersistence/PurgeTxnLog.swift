// Which old snapshots and logs may go (Apache's PurgeTxnLog, disk-format.md
// §7), shared by `zkswift purge` and the server's autopurge. The decision is a
// pure function of file names and snapshot validity so it can be tested alone.
import Foundation

public struct PurgeInput: Equatable, Sendable {
    public var name: String
    public var zxid: Int64
    /// Snapshots only: passes the pre-check Apache uses to count a snapshot (§5.3).
    public var valid: Bool

    public init(name: String, zxid: Int64, valid: Bool = true) { self.name = name; self.zxid = zxid; self.valid = valid }
}

public struct PurgePlan: Equatable, Sendable {
    /// The newest `retain` valid snapshots, newest first.
    public var retained: [String] = []
    /// zxid of the oldest retained snapshot (S in §7); nil = nothing to go by.
    public var oldestRetainedZxid: Int64?
    public var deleteLogs: [String] = []
    public var deleteSnapshots: [String] = []

    public init() {}
}

public enum PurgeTxnLog {
    /// Apache refuses fewer (PurgeTxnLog: "count should be greater than or equal to 3").
    public static let minimumRetain = 3

    /// §7: S = zxid of the oldest of the newest `retain` valid snapshots;
    /// delete snapshots older than S and logs older than the newest log that
    /// starts at or before S (that one may hold the txns right after S).
    public static func plan(snapshots: [PurgeInput], logs: [PurgeInput], retain: Int) -> PurgePlan {
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

    /// The plan for real directories (version-2 paths), with the full paths of
    /// the files it would remove, logs first.
    public static func plan(snapDir: String, logDir: String, retain: Int) -> (plan: PurgePlan, victims: [String]) {
        let name = { (p: String) in (p as NSString).lastPathComponent }
        let snaps = DataDirectory.list(snapDir, prefix: "snapshot")
        let logs = DataDirectory.list(logDir, prefix: "log")
        let p = plan(snapshots: snaps.map { PurgeInput(name: name($0.path), zxid: $0.zxid, valid: looksValid($0.path)) },
                     logs: logs.map { PurgeInput(name: name($0.path), zxid: $0.zxid) },
                     retain: retain)
        let victims = p.deleteLogs.map { (logDir as NSString).appendingPathComponent($0) }
            + p.deleteSnapshots.map { (snapDir as NSString).appendingPathComponent($0) }
        return (p, victims)
    }

    /// The §5.3 pre-check on a file, reading only its ends (snapshots can be
    /// gigabytes). `.tmp` files are never counted: they are snapshots being
    /// written (Apache would count one that happens to be complete, and then
    /// keep one real snapshot fewer).
    public static func looksValid(_ path: String) -> Bool {
        if path.hasSuffix(".tmp") { return false }
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let method = SnapshotCompression.Method(fileName: path)
        if method != .none {
            // A compressed snapshot is judged by its stream's magic at the start.
            let head = (try? h.read(upToCount: 8)).map { [UInt8]($0) } ?? []
            return SnapshotCompression.passesPreCheck(head, method: method)
        }
        guard let size = try? h.seekToEnd(), size >= 10 else { return false }
        guard (try? h.seek(toOffset: size - 5)) != nil, let tail = try? h.read(upToCount: 5) else { return false }
        return Array(tail) == [0, 0, 0, 1, 0x2f]   // the final "/" (SnapshotFormat.looksComplete)
    }
}
