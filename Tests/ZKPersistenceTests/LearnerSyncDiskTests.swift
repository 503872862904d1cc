// TRUNC on a learner's disk, and the proposals a leader reads from its logs.
import Foundation
import NIOCore
import Testing
import ZKJute
@testable import ZKPersistence

@Suite struct LearnerSyncDiskTests {
    /// version-2 with log.1 (zxids 1-6), log.7 (7-10), snapshot.0 and snapshot.8.
    static func dataDir() throws -> (String, FileTxnSnapLog) {
        let dir = try makeTempDir()
        let snapLog = try FileTxnSnapLog(dataDir: dir, dataLogDir: dir)
        _ = try TxnLogReaderTests.writeLog(in: snapLog.logDir, count: 6, firstZxid: 1)
        _ = try TxnLogReaderTests.writeLog(in: snapLog.logDir, count: 4, firstZxid: 7)
        for z in [0, 8] { try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: snapLog.snapDir + "/" + DataDirectory.name("snapshot", Int64(z)))) }
        return (dir, snapLog)
    }

    static func zxids(_ snapLog: FileTxnSnapLog) throws -> [Int64] {
        var out: [Int64] = []
        for f in DataDirectory.list(snapLog.logDir, prefix: "log") {
            out += try TxnLogReaderTests.read(f.path).0.map(\.hdr.zxid)
        }
        return out
    }

    @Test func truncCutsAfterTheZxidAndDropsWhatCameLater() throws {
        let (dir, snapLog) = try Self.dataDir()
        defer { removeTempDir(dir) }
        try snapLog.truncateLog(to: 5, maxRecordBytes: 1 << 20)
        #expect(try Self.zxids(snapLog) == [1, 2, 3, 4, 5])
        #expect(DataDirectory.list(snapLog.logDir, prefix: "log").map(\.zxid) == [1])
        #expect(DataDirectory.list(snapLog.snapDir, prefix: "snapshot").map(\.zxid) == [0])
        // the cut file ends cleanly: a new record appended after it reads back
        #expect(try TxnLogReaderTests.read(snapLog.logDir + "/log.1").1 == .clean)
    }

    @Test func truncToTheLastTxnChangesNothingAndBeforeTheLogsIsAnError() throws {
        let (dir, snapLog) = try Self.dataDir()
        defer { removeTempDir(dir) }
        try snapLog.truncateLog(to: 10, maxRecordBytes: 1 << 20)
        #expect(try Self.zxids(snapLog) == Array(1...10))
        #expect(throws: PersistenceError.self) { try snapLog.truncateLog(to: 0, maxRecordBytes: 1 << 20) }
    }

    @Test func proposalsFromTheLogs() throws {
        let (dir, snapLog) = try Self.dataDir()
        defer { removeTempDir(dir) }
        let p = try #require(try snapLog.proposals(from: 3, sizeLimit: 0, maxRecordBytes: 1 << 20))
        #expect(p.map(\.zxid) == Array(3...10))
        // the payload is what a PROPOSAL carries: header, txn, digest
        let r = try TxnLogFormat.decodePayload(ByteBuffer(bytes: p[1].payload), offset: 0)
        #expect(r.hdr.zxid == 4 && r.digest?.treeDigest == 4000)
        #expect(try snapLog.proposals(from: 0, sizeLimit: 0, maxRecordBytes: 1 << 20) == nil)   // logs start after it
        #expect(try snapLog.proposals(from: 3, sizeLimit: -1, maxRecordBytes: 1 << 20) == nil)  // disabled
        #expect(try snapLog.proposals(from: 3, sizeLimit: 100, maxRecordBytes: 1 << 20) == nil) // too much to read
        #expect(snapLog.txnLogSizeLimit(snapshotSizeFactor: 0.33) == 330)
        #expect(snapLog.txnLogSizeLimit(snapshotSizeFactor: -1) == -1)
    }
}
