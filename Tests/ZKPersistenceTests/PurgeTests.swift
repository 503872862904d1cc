// The purge rule of disk-format.md §7 (Apache's PurgeTxnLog) as a pure
// decision, then on real directories through the zkswift purge command.
import Foundation
import Testing
@testable import zkswift
import ZKPersistence

@Suite struct PurgeTests {
    static func snaps(_ zxids: [Int64], invalid: Set<Int64> = []) -> [PurgeInput] {
        zxids.map { PurgeInput(name: DataDirectory.name("snapshot", $0), zxid: $0, valid: !invalid.contains($0)) }
    }
    static func logs(_ zxids: [Int64]) -> [PurgeInput] {
        zxids.map { PurgeInput(name: DataDirectory.name("log", $0), zxid: $0) }
    }

    @Test func keepsNewestNAndTheLogReachingBackToTheOldest() {
        // snapshots 0, 0x11, 0x1f, 0x30, 0x45; logs 1, 0x13, 0x20, 0x31, 0x46
        let p = PurgeTxnLog.plan(snapshots: Self.snaps([0x45, 0, 0x1f, 0x30, 0x11]), logs: Self.logs([1, 0x13, 0x20, 0x31, 0x46]), retain: 3)
        #expect(p.retained == ["snapshot.45", "snapshot.30", "snapshot.1f"])
        #expect(p.oldestRetainedZxid == 0x1f)
        // log.13 starts at or before 0x1f: it holds 0x20.. for snapshot.1f, so it stays.
        #expect(p.deleteLogs == ["log.1"])
        #expect(p.deleteSnapshots == ["snapshot.0", "snapshot.11"])
    }

    @Test func logStartingExactlyAtTheSnapshotIsTheOneKept() {
        let p = PurgeTxnLog.plan(snapshots: Self.snaps([5, 10, 15, 20]), logs: Self.logs([1, 6, 10, 16]), retain: 3)
        #expect(p.oldestRetainedZxid == 10)
        #expect(p.deleteLogs == ["log.1", "log.6"])
        #expect(p.deleteSnapshots == ["snapshot.5"])
    }

    @Test func fewerSnapshotsThanNRemovesNothingNeeded() {
        let p = PurgeTxnLog.plan(snapshots: Self.snaps([0, 0x10]), logs: Self.logs([1, 0x11]), retain: 3)
        #expect(p.retained == ["snapshot.10", "snapshot.0"])
        #expect(p.deleteLogs.isEmpty && p.deleteSnapshots.isEmpty)
    }

    @Test func invalidSnapshotsDoNotCountButOldOnesGo() {
        // 0x40 is damaged: the three valid ones are 0x30, 0x20, 0x10.
        let p = PurgeTxnLog.plan(snapshots: Self.snaps([0, 0x10, 0x20, 0x30, 0x40], invalid: [0x40, 0]), logs: Self.logs([1, 0x11, 0x21, 0x31, 0x41]), retain: 3)
        #expect(p.retained == ["snapshot.30", "snapshot.20", "snapshot.10"])
        #expect(p.deleteSnapshots == ["snapshot.0"])
        #expect(p.deleteLogs.isEmpty)       // log.1 starts at or before 0x10: it holds 0x11.. for snapshot.10
    }

    @Test func noValidSnapshotMeansNothingIsRemoved() {
        let p = PurgeTxnLog.plan(snapshots: Self.snaps([1, 2, 3], invalid: [1, 2, 3]), logs: Self.logs([1, 2]), retain: 3)
        #expect(p == PurgePlan())
    }

    @Test func noLogAtOrBeforeTheOldestSnapshotKeepsAllLogs() {
        let p = PurgeTxnLog.plan(snapshots: Self.snaps([0x10, 0x20, 0x30, 0x40]), logs: Self.logs([0x25, 0x31]), retain: 3)
        #expect(p.oldestRetainedZxid == 0x20)
        #expect(p.deleteLogs.isEmpty)
        #expect(p.deleteSnapshots == ["snapshot.10"])
    }

    @Test func largerRetainCount() {
        let s: [Int64] = Array(0..<10).map { Int64($0 * 16) }
        let p = PurgeTxnLog.plan(snapshots: Self.snaps(s), logs: Self.logs(s.map { $0 + 1 }), retain: 5)
        #expect(p.oldestRetainedZxid == 0x50)
        #expect(p.deleteSnapshots == ["snapshot.0", "snapshot.10", "snapshot.20", "snapshot.30", "snapshot.40"])
        // log.41 starts before 0x50 and holds 0x50's successors.
        #expect(p.deleteLogs == ["log.1", "log.11", "log.21", "log.31"])
    }

    // MARK: on disk

    static func makeDir(_ dir: String, snapshots: [Int64], logs: [Int64], logDir: String? = nil) throws {
        let v = DataDirectory.versionPath(dir)
        let lv = DataDirectory.versionPath(logDir ?? dir)
        try FileManager.default.createDirectory(atPath: v, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lv, withIntermediateDirectories: true)
        for z in snapshots { try writeBytes(SnapshotFormatTests.freshTree(), v + "/" + DataDirectory.name("snapshot", z)) }
        for z in logs { try writeBytes(TxnLogFormat.fileHeader(), lv + "/" + DataDirectory.name("log", z)) }
    }

    static func names(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: DataDirectory.versionPath(dir))) ?? []).sorted()
    }

    @Test func purgeRemovesFilesAndReportsThem() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        try Self.makeDir(dir, snapshots: [0, 0x11, 0x1f, 0x30], logs: [1, 0x5, 0x12, 0x20, 0x31])
        // A half-written snapshot: not counted, and too old to keep.
        try writeBytes([1, 2, 3], DataDirectory.versionPath(dir) + "/snapshot.5")
        let dry = CollectingSink()
        #expect(Purge.run(dataDir: dir, logDir: nil, retain: 3, dryRun: true, to: dry) == 0)
        #expect(Self.names(dir).count == 10)
        let v = DataDirectory.versionPath(dir)
        #expect(dry.stdout == ["keeping 3 snapshots down to zxid 0x11: snapshot.30 snapshot.1f snapshot.11",
                               "would remove \(v)/log.1", "would remove \(v)/snapshot.0", "would remove \(v)/snapshot.5",
                               "would remove 3 files"])
        let real = CollectingSink()
        #expect(Purge.run(dataDir: dir, logDir: nil, retain: 3, dryRun: false, to: real) == 0)
        #expect(real.stdout.filter { $0.hasPrefix("removed ") }.count == 4)
        // log.5 is the newest log starting at or before 0x11: it holds 0x12.. for snapshot.11.
        #expect(Self.names(dir) == ["log.12", "log.20", "log.31", "log.5", "snapshot.11", "snapshot.1f", "snapshot.30"])
        // Idempotent.
        let again = CollectingSink()
        #expect(Purge.run(dataDir: dir + "/version-2", logDir: nil, retain: 3, dryRun: false, to: again) == 0)
        #expect(again.stdout.last == "removed 0 files")
    }

    @Test func purgeWithSeparateLogDir() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let data = dir + "/data", logs = dir + "/logs"
        try Self.makeDir(data, snapshots: [0, 0x10, 0x20, 0x30], logs: [1, 0x11, 0x21], logDir: logs)
        let sink = CollectingSink()
        #expect(Purge.run(dataDir: data, logDir: logs, retain: 3, dryRun: false, to: sink) == 0)
        #expect(Self.names(data) == ["snapshot.10", "snapshot.20", "snapshot.30"])
        #expect(Self.names(logs) == ["log.1", "log.11", "log.21"])   // log.1 reaches 0x10
        // Logs and snapshots mixed up across the two: refuse, as Apache does.
        try writeBytes(TxnLogFormat.fileHeader(), DataDirectory.versionPath(data) + "/log.40")
        let refused = CollectingSink()
        #expect(Purge.run(dataDir: data, logDir: logs, retain: 3, dryRun: false, to: refused) == 2)
        #expect(Purge.run(dataDir: dir + "/nowhere", logDir: nil, retain: 3, dryRun: false, to: refused) == 2)
    }

    /// The Apache fixture: four files go, the three newest snapshots and the logs they need stay.
    @Test func purgeApacheFixture() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let data = try Fixture.copyApacheDataDir(to: dir)
        // Add a newer snapshot so that one of the fixture's has to go.
        try FileManager.default.copyItem(atPath: Fixture.apacheRecoveredSnapshot, toPath: DataDirectory.versionPath(data) + "/snapshot.29")
        let sink = CollectingSink()
        #expect(Purge.run(dataDir: data, logDir: nil, retain: 3, dryRun: false, to: sink) == 0)
        #expect(Self.names(data) == ["log.1", "log.13", "log.20", "snapshot.11", "snapshot.1f", "snapshot.29"])
    }
}
