// FileTxnSnapLog.restore on a data directory written by Apache ZooKeeper
// 3.8.0 (Fixtures/apache-3.8.0, see Fixtures/README.md), checked against what
// Apache's own tools show for those files and against the snapshot Apache
// wrote after recovering the very same directory.
import Foundation
import NIOCore
import Testing
import ZKData
import ZKJute
import ZKPersistence

@Suite struct ApacheRestoreTests {
    static let maxRecord = 0xfffff * 2 + 1024

    static func restore(removing: [String] = []) throws -> FileTxnSnapLog.Restored {
        try withTempDir { dir in
            let data = try Fixture.copyApacheDataDir(to: dir)
            for name in removing { try FileManager.default.removeItem(atPath: DataDirectory.versionPath(data) + "/" + name) }
            let snapLog = try FileTxnSnapLog(dataDir: data, dataLogDir: data)
            return try snapLog.restore(extendedTypesEnabled: false, maxRecordBytes: maxRecord)
        }
    }

    static func acl(_ t: DataTree, _ path: String) -> [ACL]? { t.getNode(path).map { t.acl(of: $0) } }
    static func data(_ t: DataTree, _ path: String) -> String? {
        t.getNode(path).map { String(decoding: $0.data ?? [], as: UTF8.self) }
    }

    /// Newest snapshot (snapshot.1f) plus log.20 (zxid 0x20...0x29).
    @Test func restoresNewestSnapshotAndReplaysTheLog() throws {
        let r = try Self.restore()
        #expect(r.snapshotZxid == 0x1f)
        #expect(r.replayed == 10)
        #expect(r.lastZxid == 0x29)
        #expect(r.tornTail == nil)
        // Session 0x10000435f6a0001 was closed; ...0000 was alive when Apache was killed.
        #expect(r.sessions == [Fixture.session: 30000])
        try Self.checkFinalTree(r.tree)
    }

    /// Older snapshot.11, whose digest section says it already holds zxid 0x12
    /// (fuzzy): replaying log.1 from 0x12, log.13 and log.20 must end the same.
    @Test func restoresFromFuzzyOlderSnapshot() throws {
        let r = try Self.restore(removing: ["snapshot.1f"])
        #expect(r.snapshotZxid == 0x11)
        #expect(r.replayed == 1 + 13 + 10)
        try Self.checkFinalTree(r.tree)
        #expect(r.sessions == [Fixture.session: 30000])
    }

    /// From the empty snapshot.0 through all three logs.
    @Test func restoresFromEmptySnapshot() throws {
        let r = try Self.restore(removing: ["snapshot.1f", "snapshot.11"])
        #expect(r.snapshotZxid == 0)
        #expect(r.replayed == 0x29)
        try Self.checkFinalTree(r.tree)
        #expect(r.sessions == [Fixture.session: 30000])
    }

    /// A damaged newest snapshot is skipped for the next one, as Apache does.
    @Test func fallsBackPastADamagedSnapshot() throws {
        let r = try withTempDir { dir in
            let data = try Fixture.copyApacheDataDir(to: dir)
            let p = DataDirectory.versionPath(data) + "/snapshot.1f"
            var b = try readBytes(p)
            b[100] ^= 0x01
            try writeBytes(b, p)
            return try FileTxnSnapLog(dataDir: data, dataLogDir: data).restore(extendedTypesEnabled: false, maxRecordBytes: Self.maxRecord)
        }
        #expect(r.snapshotZxid == 0x11)
        try Self.checkFinalTree(r.tree)
    }

    /// The state at zxid 0x29, as Apache's SnapshotFormatter / TxnLogToolkit show it.
    static func checkFinalTree(_ t: DataTree, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(t.lastProcessedZxid == 0x29, sourceLocation: sourceLocation)
        let root = try #require(t.getNode("/"), sourceLocation: sourceLocation)
        #expect(Set(root.children) == ["zookeeper", "app", "secure", "multi", "tail",
                                       "bulk01", "bulk02", "bulk04", "bulk05", "bulk07", "bulk08", "bulk10", "bulk11"],
                sourceLocation: sourceLocation)
        #expect(root.stat.cversion == 16 && root.stat.pzxid == 0x28, sourceLocation: sourceLocation)

        let app = try #require(t.getNode("/app"), sourceLocation: sourceLocation)
        #expect(data(t, "/app") == "hello3", sourceLocation: sourceLocation)
        #expect(app.stat.czxid == 2 && app.stat.mzxid == 0xb && app.stat.pzxid == 0x23 && app.stat.version == 2
                && app.stat.cversion == 7, sourceLocation: sourceLocation)
        #expect(Set(app.children) == ["config", "eph", "eph20000000006", "seq-0000000002", "seq-0000000003"],
                sourceLocation: sourceLocation)

        // Four setData after the snapshot; the ACL set at zxid 0xa.
        let config = try #require(t.getNode("/app/config"), sourceLocation: sourceLocation)
        #expect(data(t, "/app/config") == #"{"k":5}"#, sourceLocation: sourceLocation)
        #expect(config.stat.version == 4 && config.stat.aversion == 1 && config.stat.mzxid == 0x27, sourceLocation: sourceLocation)
        #expect(acl(t, "/app/config") == [ACL(perms: Perms.read | Perms.write, id: .anyone)], sourceLocation: sourceLocation)

        #expect(acl(t, "/secure") == [ACL(perms: Perms.all, id: Id(scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")),
                                      ACL(perms: Perms.read, id: .anyone)], sourceLocation: sourceLocation)
        #expect(acl(t, "/tail") == [ACL(perms: Perms.read | Perms.write, id: Id(scheme: "ip", id: "127.0.0.1"))],
                sourceLocation: sourceLocation)
        #expect(t.getNode("/tail")?.stat.aversion == 1, sourceLocation: sourceLocation)

        // Ephemerals of the live session (one sequential); the closed session's is gone.
        #expect(t.getNode("/app/eph")?.stat.ephemeralOwner == Fixture.session, sourceLocation: sourceLocation)
        #expect(t.getNode("/app/eph20000000006")?.stat.ephemeralOwner == Fixture.session, sourceLocation: sourceLocation)
        #expect(t.getEphemerals(Fixture.session) == ["/app/eph", "/app/eph20000000006"], sourceLocation: sourceLocation)
        #expect(t.getNode("/app/eph-b") == nil && t.getEphemerals(Fixture.session + 1).isEmpty, sourceLocation: sourceLocation)

        // Multi applied as a unit; the failed multi changed nothing.
        #expect(data(t, "/multi/a") == "ma" && t.getNode("/multi")?.stat.cversion == 1, sourceLocation: sourceLocation)
        #expect(t.getNode("/multi/b") == nil, sourceLocation: sourceLocation)
        #expect(t.getNode("/app/seq-0000000001") == nil, sourceLocation: sourceLocation)
        #expect(t.getNode("/bulk00") == nil && t.getNode("/bulk09") == nil, sourceLocation: sourceLocation)
        #expect(t.getNode("/bulk01")?.data == [] && t.getNode("/bulk01")?.stat.version == 1, sourceLocation: sourceLocation)
        #expect(data(t, "/bulk11") == String(repeating: "x", count: 11), sourceLocation: sourceLocation)

        // Apache logged this digest with zxid 0x29 and reported it after recovery.
        #expect(treeDigest(t) == 0x8_d3f7_d88e, sourceLocation: sourceLocation)
    }

    /// Node by node — data, every stat field, ACL — against snapshot.29, which
    /// Apache wrote right after recovering this directory itself.
    @Test func matchesApachesOwnRecovery() throws {
        let r = try Self.restore()
        let apache = try SnapshotFormat.read(ByteBuffer(bytes: try readBytes(Fixture.apacheRecoveredSnapshot)))
        let cache = Dictionary(apache.acls.map { ($0.key, $0.acl) }, uniquingKeysWith: { a, _ in a })
        var ours = Set<String>()
        var stack = ["/"]
        while let p = stack.popLast() {
            ours.insert(p)
            for c in r.tree.children(of: p) { stack.append(p == "/" ? "/" + c : p + "/" + c) }
        }
        #expect(ours == Set(apache.nodes.map { $0.path.isEmpty ? "/" : $0.path }))
        for n in apache.nodes {
            let path = n.path.isEmpty ? "/" : n.path
            guard let mine = r.tree.getNode(path) else { Issue.record("missing \(path)"); continue }
            #expect(mine.stat == n.stat, "stat of \(path)")
            #expect((mine.data ?? []) == (n.data ?? []), "data of \(path)")
            let theirs = n.aclKey == -1 ? ACL.openACLUnsafe : cache[n.aclKey]
            #expect(r.tree.acl(of: mine) == theirs, "acl of \(path)")
        }
        #expect(apache.sessions.map(\.id) == Array(r.sessions.keys))
        #expect(apache.digest?.zxid == 0x29 && apache.digest?.digest == treeDigest(r.tree))
    }

    /// Replaying every record of Apache's logs one by one, the tree digest after
    /// each must equal the TxnDigest Apache logged with it (§4.5): a byte-level
    /// check of how each transaction was applied (stat fields, times, cversions).
    @Test func everyLoggedDigestMatchesReplay() throws {
        let snap = try SnapshotFormat.read(ByteBuffer(bytes: try readBytes(Fixture.apacheVersionDir + "/snapshot.0")))
        let t = DataTree.emptyForLoading(extendedTypesEnabled: false, acls: snap.acls)
        for n in snap.nodes { try t.loadNode(path: n.path, data: n.data, aclKey: n.aclKey, stat: n.stat) }
        t.finishLoading()
        #expect(treeDigest(t) == 0x51c6_d660)
        #expect(t.digest == 0x51c6_d660)
        var checked = 0
        for f in TxnLogReader.files(in: Fixture.apacheVersionDir, from: 1) {
            let file = try TxnLogFile(path: f.path, startZxid: f.zxid)
            _ = try file.forEachRecord(isLast: false, maxRecordBytes: Self.maxRecord) { r in
                _ = t.processTxn(r.hdr, r.txn, digest: r.digest)
                t.setLastProcessedZxid(r.hdr.zxid)
                if let d = r.digest {
                    #expect(treeDigest(t) == d.treeDigest, "after zxid 0x\(String(r.hdr.zxid, radix: 16)) (\(r.txn.type))")
                    // The running digest kept by the tree agrees with the sum afresh.
                    #expect(t.digest == d.treeDigest)
                    checked += 1
                }
            }
        }
        #expect(checked == 0x29 - 1)   // every record but the plain error record carries one
        #expect(t.digestMismatches == 0)
        #expect(t.digest == t.recomputedDigest())
    }
}
