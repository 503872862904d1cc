// The snapshot's byte layout (FileSnap / DataTree.serialize in Apache): header,
// session table, ACL cache, nodes parent-before-child ending with "/", a seal,
// then the digest section and a second, cumulative seal. Pure: the caller
// supplies nodes and receives them back.
import NIOCore
import ZKJute

public enum SnapshotFormat {
    public static let magic: Int32 = 0x5a4b_534e   // "ZKSN"
    public static let version: Int32 = 2
    public static let dbid: Int64 = -1

    public struct Node {
        public var path: String
        public var data: [UInt8]?
        public var aclKey: Int64
        public var stat: StatPersisted
        public init(path: String, data: [UInt8]?, aclKey: Int64, stat: StatPersisted) {
            self.path = path; self.data = data; self.aclKey = aclKey; self.stat = stat
        }
    }

    public struct Contents {
        public var sessions: [(id: Int64, timeout: Int32)]
        public var acls: [(key: Int64, acl: [ACL])]
        public var nodes: [Node]
        public var digest: (zxid: Int64, version: Int32, digest: Int64)?
    }

    /// Writes the head: header, sessions and ACL cache.
    public static func writeHead(sessions: [(id: Int64, timeout: Int32)], acls: [(key: Int64, acl: [ACL])], to b: inout ByteBuffer) {
        b.writeInteger(magic); b.writeInteger(version); b.writeInteger(dbid)
        writeSessionsAndACLs(sessions: sessions, acls: acls, to: &b)
    }

    /// The session table and ACL cache that start the database (after the
    /// file header here; with nothing before them in a leader's SNAP).
    public static func writeSessionsAndACLs(sessions: [(id: Int64, timeout: Int32)], acls: [(key: Int64, acl: [ACL])], to b: inout ByteBuffer) {
        b.writeInteger(Int32(sessions.count))
        for s in sessions { b.writeInteger(s.id); b.writeInteger(s.timeout) }
        b.writeInteger(Int32(acls.count))
        for e in acls { b.writeInteger(e.key); b.writeJuteRecordVector(e.acl) }
    }

    public static func writeNode(_ n: Node, to b: inout ByteBuffer) {
        b.writeJuteString(n.path)
        b.writeJuteBuffer(n.data)
        b.writeInteger(n.aclKey)
        n.stat.write(to: &b)
    }

    /// The end of the tree, both seals and the digest section (zxid 0: none).
    public static func writeTail(digest: (zxid: Int64, digest: Int64)?, to b: inout ByteBuffer) {
        b.writeJuteString("/")
        b.writeInteger(Int64(Adler32.checksum(b.readableBytesView)))
        b.writeJuteString("/")
        b.writeInteger(digest?.zxid ?? 0)
        b.writeInteger(Int32(2))
        b.writeInteger(digest?.digest ?? 0)
        b.writeInteger(Int64(Adler32.checksum(b.readableBytesView)))
        b.writeJuteString("/")
    }

    public struct Corrupt: Error, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "corrupt snapshot at offset \(offset): \(reason)" }
    }

    /// Parses a whole snapshot, checking both seals.
    public static func read(_ bytes: ByteBuffer, maxRecordBytes: Int = 0x1fffff) throws(Corrupt) -> Contents {
        var b = bytes
        func fail(_ reason: String) -> Corrupt { Corrupt(offset: b.readerIndex - bytes.readerIndex, reason: reason) }
        do {
            guard try b.readJuteInt() == magic else { throw fail("bad magic number") }
            _ = try b.readJuteInt()
            _ = try b.readJuteLong()
            let sessionCount = try b.readJuteInt()
            guard sessionCount >= 0, Int(sessionCount) * 12 <= b.readableBytes else { throw fail("bad session count \(sessionCount)") }
            var sessions: [(id: Int64, timeout: Int32)] = []
            for _ in 0..<sessionCount { sessions.append((try b.readJuteLong(), try b.readJuteInt())) }
            let aclCount = try b.readJuteInt()
            guard aclCount >= 0, Int(aclCount) <= b.readableBytes else { throw fail("bad ACL count \(aclCount)") }
            var acls: [(key: Int64, acl: [ACL])] = []
            for _ in 0..<aclCount { acls.append((try b.readJuteLong(), try b.readJuteACLs() ?? [])) }
            var nodes: [Node] = []
            while true {
                let path = try b.readJuteNonNullString()
                if path == "/" { break }
                let data = try b.readJuteBuffer()
                let aclKey = try b.readJuteLong()
                let stat = try StatPersisted(from: &b)
                nodes.append(Node(path: path, data: data, aclKey: aclKey, stat: stat))
            }
            // The seal is compared as a whole long, as Apache does.
            let sealed1 = Int64(Adler32.checksum(bytes.readableBytesView.prefix(b.readerIndex - bytes.readerIndex)))
            let seal1At = b.readerIndex
            guard try b.readJuteLong() == sealed1 else {
                throw Corrupt(offset: seal1At - bytes.readerIndex, reason: "checksum (seal) mismatch")
            }
            guard try b.readJuteString() == "/" else { throw fail("missing end marker") }
            var digest: (Int64, Int32, Int64)? = nil
            if b.readableBytes > 0 {
                let zxid = try b.readJuteLong()
                let v = try b.readJuteInt()
                let d: Int64
                if v >= 2 { d = try b.readJuteLong() } else { d = Int64(try b.readJuteString() ?? "0", radix: 16) ?? 0 }
                let sealed2 = Int64(Adler32.checksum(bytes.readableBytesView.prefix(b.readerIndex - bytes.readerIndex)))
                let seal2At = b.readerIndex
                guard try b.readJuteLong() == sealed2 else {
                    throw Corrupt(offset: seal2At - bytes.readerIndex, reason: "digest section checksum mismatch")
                }
                guard try b.readJuteString() == "/" else { throw fail("missing end marker after digest") }
                digest = (zxid, v, d)
            }
            return Contents(sessions: sessions, acls: acls, nodes: nodes, digest: digest)
        } catch let e as Corrupt {
            throw e
        } catch {
            throw fail("\(error)")
        }
    }

    /// Apache's quick check before trying a file: long enough and ending in "/".
    public static func looksComplete(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 10 && Array(bytes.suffix(5)) == [0, 0, 0, 1, 0x2f]
    }
}
