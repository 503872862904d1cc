// The data directory as a whole (FileTxnSnapLog + FileSnap in Apache):
// recovery loads the newest snapshot that checks out, replays the logs after
// it and cuts off a torn tail; snapshots are written to a temp file, synced and
// renamed into place.
import Foundation
import Logging
import NIOCore
import ZKData
import ZKJute

public final class FileTxnSnapLog: @unchecked Sendable {
    // immutable after init
    public let snapDir: String
    public let logDir: String
    private let logger = Logger(label: "zkswiftd.FileTxnSnapLog")

    /// Creates `version-2` in both directories when missing.
    public init(dataDir: String, dataLogDir: String) throws(PersistenceError) {
        snapDir = DataDirectory.versionPath(dataDir)
        logDir = DataDirectory.versionPath(dataLogDir)
        for d in Set([snapDir, logDir]) {
            do {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            } catch {
                throw PersistenceError("cannot create \(d): \(error.localizedDescription)")
            }
        }
        if snapDir != logDir {
            if !DataDirectory.list(logDir, prefix: "snapshot").isEmpty {
                throw PersistenceError("\(logDir) holds snapshot files; dataLogDir must hold only logs")
            }
            if !DataDirectory.list(snapDir, prefix: "log").isEmpty {
                throw PersistenceError("\(snapDir) holds log files; dataDir must hold only snapshots when dataLogDir is set")
            }
        }
    }

    public struct Restored {
        public var tree: DataTree
        public var sessions: [Int64: Int32]
        public var snapshotZxid: Int64?
        public var tornTail: TornTail?
        public var replayed: Int
        public var lastZxid: Int64 { tree.lastProcessedZxid }
    }

    public func restore(extendedTypesEnabled: Bool, maxRecordBytes: Int) throws -> Restored {
        var tree: DataTree? = nil
        var sessions: [Int64: Int32] = [:]
        var snapZxid: Int64? = nil
        let candidates = DataDirectory.list(snapDir, prefix: "snapshot").reversed()
        var tried = 0
        for c in candidates {
            let path = c.path
            if path.hasSuffix(".tmp") { continue }
            let method = SnapshotCompression.Method(fileName: path)
            guard let raw = try? DataDirectory.readFile(path), SnapshotCompression.passesPreCheck(raw, method: method) else { continue }
            tried += 1
            do {
                let bytes = try SnapshotCompression.decompress(raw, method: method)
                let contents = try SnapshotFormat.read(ByteBuffer(bytes: bytes), maxRecordBytes: maxRecordBytes)
                let t = DataTree.emptyForLoading(extendedTypesEnabled: extendedTypesEnabled, acls: contents.acls)
                for n in contents.nodes {
                    try t.loadNode(path: n.path, data: n.data, aclKey: n.aclKey, stat: n.stat)
                }
                guard t.getNode("/") != nil else { throw SnapshotFormat.Corrupt(offset: 0, reason: "no root node") }
                t.finishLoading()
                t.setLastProcessedZxid(c.zxid)
                if let d = contents.digest { t.setDigestFromLoadedSnapshot(zxid: d.zxid, version: d.version, digest: d.digest) }
                for s in contents.sessions { sessions[s.id] = s.timeout }
                tree = t
                snapZxid = c.zxid
                logger.info("Loaded snapshot \(path): \(contents.nodes.count) nodes, \(contents.sessions.count) sessions")
                break
            } catch {
                logger.warning("\(path): \(error); trying an older snapshot")
            }
        }
        let logs = TxnLogReader.files(in: logDir, from: (snapZxid ?? 0) + 1)
        if tree == nil {
            if tried > 0 { throw PersistenceError("\(snapDir): no valid snapshot among \(tried) candidates") }
            if !logs.isEmpty { throw PersistenceError("\(logDir): no snapshot found, but there are log entries") }
            tree = DataTree(extendedTypesEnabled: extendedTypesEnabled)
        }
        let t = tree!
        var torn: TornTail? = nil
        var replayed = 0
        for (i, f) in logs.enumerated() {
            let file = try TxnLogFile(path: f.path, startZxid: f.zxid)
            let outcome = try file.forEachRecord(isLast: i == logs.count - 1, maxRecordBytes: maxRecordBytes) { r in
                guard r.hdr.zxid > t.lastProcessedZxid else { return }
                // Apache 3.8.0-3.8.4 logged a top-level check that changes nothing.
                if case .check = r.txn, r.hdr.type == OpCode.check.rawValue {
                    t.setLastProcessedZxid(r.hdr.zxid)
                    return
                }
                switch r.txn {
                case .createSession(let timeout): sessions[r.hdr.clientId] = timeout
                case .closeSession: sessions[r.hdr.clientId] = nil
                default: break
                }
                _ = t.processTxn(r.hdr, r.txn, digest: r.digest)
                replayed += 1
            }
            if case .torn(let tail) = outcome {
                torn = tail
                try cutOff(tail)
            }
        }
        if let d = t.digestFromLoadedSnapshot {
            logger.warning("The logs end at zxid 0x\(String(t.lastProcessedZxid, radix: 16)), before 0x\(String(d.zxid, radix: 16)) that the snapshot's digest is for")
        }
        if t.digestMismatches > 0 {
            logger.warning("\(t.digestMismatches) txns or snapshots recorded a tree digest other than the replayed tree's")
        }
        return Restored(tree: t, sessions: sessions, snapshotZxid: snapZxid, tornTail: torn, replayed: replayed)
    }

    /// Truncates a torn record so that every later reader, Apache's included,
    /// sees the log end cleanly before it.
    private func cutOff(_ tail: TornTail) throws {
        let f = try PosixFile(path: tail.file, create: false)
        if tail.offset <= TxnLogFormat.headerBytes {
            // No whole record: drop the file, whose name the next log reuses.
            f.close()
            try FileManager.default.removeItem(atPath: tail.file)
            PosixFile.syncDirectory(logDir)
            logger.warning("\(tail.file): removed a log file torn before its first record (\(tail.reason))")
            return
        }
        try f.truncate(to: tail.offset)
        try f.sync(dataOnly: false)
        f.close()
        logger.warning("\(tail.file): cut off a torn last record at offset \(tail.offset) (\(tail.reason))")
    }

    /// Writes `snapshot.<zxid>[.gz|.snappy]` atomically: temp file, fsync,
    /// rename, dir sync. `bytes` is the uncompressed stream.
    public func writeSnapshot(_ bytes: ByteBuffer, zxid: Int64, fsync: Bool,
                              compression: SnapshotCompression.Method = .none) throws(PersistenceError) {
        let name = DataDirectory.name("snapshot", zxid) + compression.fileSuffix
        let final = (snapDir as NSString).appendingPathComponent(name)
        var file = bytes
        if compression != .none {
            let r: Result<[UInt8], SnapshotCompression.Failure> = bytes.withUnsafeReadableBytes { buf in
                do throws(SnapshotCompression.Failure) { return .success(try SnapshotCompression.compress(buf, method: compression)) } catch { return .failure(error) }
            }
            switch r {
            case .success(let b): file = ByteBuffer(bytes: b)
            case .failure(let e): throw PersistenceError("cannot compress snapshot \(final): \(e)")
            }
        }
        try PosixFile.writeAtomically(file, to: final, fsync: fsync)
    }
}
