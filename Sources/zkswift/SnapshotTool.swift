// `zkswift snapshot dump|verify FILE`: walks a snapshot's layout itself, to
// name the exact offset of damage (a bad seal is reported where the seal is),
// then parses it with the server's own reader (ZKPersistence.SnapshotFormat),
// so what verify accepts is what recovery accepts, plus Apache's shape checks.
// A .gz or .snappy file is decompressed first, as recovery does; offsets then
// count bytes of the uncompressed stream, where the seals are.
import Foundation
import NIOCore
import ZKJute
import ZKPersistence

enum SnapshotTool {
    struct Loaded {
        var contents: SnapshotFormat.Contents
        var layout: Layout
        /// Of the uncompressed stream.
        var fileSize: Int
        var compression: SnapshotCompression.Method = .none
    }

    /// Where things are in the file (disk-format.md §5.2).
    struct Layout {
        /// Byte offset of every node record, in file order.
        var nodeOffsets: [Int] = []
        var seal1Offset = 0
        var seal2Offset: Int?
        /// Where the stream ends; bytes after it make Apache's pre-check (§5.3) skip the file.
        var end = 0
    }

    enum Failure: Error {
        case unreadable(String)
        case corrupt(offset: Int, reason: String)
        /// The compressed layer is damaged: no offset in the snapshot stream to give.
        case badCompression(String)
    }

    /// Reads and fully checks one snapshot file.
    static func load(_ path: String) throws(Failure) -> Loaded {
        if let why = Files.problem(path) { throw .unreadable("cannot read \(path): \(why)") }
        let raw: [UInt8]
        do { raw = try DataDirectory.readFile(path) } catch { throw .unreadable(error.description) }
        let method = SnapshotCompression.Method(fileName: path)
        let bytes: [UInt8]
        do { bytes = try SnapshotCompression.decompress(raw, method: method) } catch { throw .badCompression(error.description) }
        let layout = try walk(bytes)
        let contents: SnapshotFormat.Contents
        do {
            contents = try SnapshotFormat.read(ByteBuffer(bytes: bytes))
        } catch {
            // The walk found nothing wrong but recovery's reader does: its word counts.
            throw .corrupt(offset: error.offset, reason: error.reason)
        }
        let loaded = Loaded(contents: contents, layout: layout, fileSize: bytes.count, compression: method)
        try checkShape(loaded)
        return loaded
    }

    /// Follows the layout field by field, checking the magic and both seals
    /// (all 8 bytes, as Apache compares them), and fails at the offset of the
    /// field that is wrong or cut short.
    static func walk(_ bytes: [UInt8]) throws(Failure) -> Layout {
        var b = ByteBuffer(bytes: bytes)
        var at = 0
        var l = Layout()
        func field<T>(_ what: String, _ read: (inout ByteBuffer) throws(JuteError) -> T) throws(Failure) -> T {
            at = b.readerIndex
            do { return try read(&b) } catch {
                throw .corrupt(offset: at, reason: "bad or truncated \(what) (\(error))")
            }
        }
        func seal(_ name: String) throws(Failure) -> Int {
            let expected = Int64(Adler32.checksum(bytes[..<b.readerIndex]))
            let found = try field(name) { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteLong() }
            guard found == expected else {
                throw .corrupt(offset: at, reason: "\(name) mismatch: file has \(Format.hex(found)), content sums to \(Format.hex(expected))")
            }
            return at
        }
        func slash(_ what: String) throws(Failure) {
            let s = try field(what) { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteString() }
            guard s == "/" else { throw .corrupt(offset: at, reason: "\(what) is not \"/\"") }
        }
        let magic = try field("magic") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteInt() }
        guard magic == SnapshotFormat.magic else { throw .corrupt(offset: 0, reason: "bad magic number \(Format.hex(magic))") }
        _ = try field("version") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteInt() }
        _ = try field("dbid") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteLong() }
        let sessions = try field("session count") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteInt() }
        guard sessions >= 0, Int(sessions) * 12 <= b.readableBytes else { throw .corrupt(offset: at, reason: "bad session count \(sessions)") }
        b.moveReaderIndex(forwardBy: Int(sessions) * 12)
        let acls = try field("ACL count") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteInt() }
        guard acls >= 0, Int(acls) <= b.readableBytes else { throw .corrupt(offset: at, reason: "bad ACL count \(acls)") }
        for _ in 0..<acls {
            _ = try field("ACL cache entry") { (b: inout ByteBuffer) throws(JuteError) in
                _ = try b.readJuteLong(); return try b.readJuteACLs()
            }
        }
        while true {
            let start = b.readerIndex
            let path = try field("node path") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteString() }
            if path == "/" { break }
            _ = try field("node \(Format.path(path ?? "")) data") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteBuffer() }
            _ = try field("node \(Format.path(path ?? "")) ACL index") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteLong() }
            _ = try field("node \(Format.path(path ?? "")) stat") { (b: inout ByteBuffer) throws(JuteError) in try StatPersisted(from: &b) }
            l.nodeOffsets.append(start)
        }
        l.seal1Offset = try seal("seal")
        try slash("end marker after the seal")
        if b.readableBytes > 0 {
            // The digest section (absent in snapshots written before digests).
            _ = try field("digest zxid") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteLong() }
            let v = try field("digest version") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteInt() }
            if v >= 2 {
                _ = try field("digest") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteLong() }
            } else {
                _ = try field("digest") { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteString() }
            }
            l.seal2Offset = try seal("digest section seal")
            try slash("end marker after the digest section")
        }
        l.end = b.readerIndex
        return l
    }

    /// What Apache's DataTree.deserialize insists on: a root, and every node's
    /// parent (the path before its last '/') loaded before it. Also rejects bytes
    /// after the end, which make Apache's pre-check (§5.3) skip the file.
    static func checkShape(_ l: Loaded) throws(Failure) {
        var seen = Set<String>()
        var hasRoot = false
        for (n, off) in zip(l.contents.nodes, l.layout.nodeOffsets) {
            if let slash = n.path.lastIndex(of: "/") {
                let parent = String(n.path[..<slash])
                guard seen.contains(parent) else {
                    throw .corrupt(offset: off, reason: "node \(Format.path(n.path)) comes before its parent \(Format.path(parent.isEmpty ? "/" : parent))")
                }
            } else {
                hasRoot = true
            }
            seen.insert(n.path.contains("/") ? n.path : "")
        }
        guard hasRoot else { throw .corrupt(offset: l.layout.nodeOffsets.first ?? l.layout.seal1Offset, reason: "no root node") }
        // Apache's pre-check of a compressed file looks only at its first bytes.
        if l.compression == .none && l.fileSize > l.layout.end {
            throw .corrupt(offset: l.layout.end, reason: "\(l.fileSize - l.layout.end) bytes after the end of the snapshot")
        }
    }

    static func aclText(_ key: Int64, _ cache: [Int64: [ACL]]) -> String {
        if key == -1 { return Format.acl(ACL.openACLUnsafe) }
        return cache[key].map(Format.acl) ?? "unknown(\(key))"
    }

    static func nodeLine(_ n: SnapshotFormat.Node, _ cache: [Int64: [ACL]]) -> String {
        let s = n.stat
        return "\(Format.path(n.path.contains("/") ? n.path : "/")) data=\(Format.data(n.data))"
            + " czxid=\(Format.hex(s.czxid)) mzxid=\(Format.hex(s.mzxid)) pzxid=\(Format.hex(s.pzxid))"
            + " version=\(s.version) cversion=\(s.cversion) aversion=\(s.aversion)"
            + " ephemeralOwner=\(Format.hex(s.ephemeralOwner)) acl=\(aclText(n.aclKey, cache))"
    }

    static func summary(_ c: SnapshotFormat.Contents) -> String {
        let dataBytes = c.nodes.reduce(0) { $0 + ($1.data?.count ?? 0) }
        var s = "\(c.nodes.count) nodes, \(c.sessions.count) sessions, \(c.acls.count) ACL lists, \(dataBytes) data bytes"
        if let d = c.digest {
            s += ", digest zxid \(Format.hex(d.zxid)) v\(d.version) \(Format.hex(d.digest))"
        } else {
            s += ", no digest section"
        }
        return s
    }

    static func report(_ f: Failure, _ path: String, to sink: Sink) -> Int32 {
        switch f {
        case .unreadable(let why):
            sink.err("zkswift: \(why)")
            return Status.unreadable
        case .corrupt(let off, let reason):
            let stream = SnapshotCompression.Method(fileName: path) == .none ? "" : " of the uncompressed stream"
            sink.err("\(path): corrupt snapshot at offset \(off)\(stream): \(reason)")
            return Status.corrupt
        case .badCompression(let why):
            sink.err("\(path): \(why)")
            return Status.corrupt
        }
    }

    /// Sessions, ACL cache, one line per node in file order, then a summary.
    static func dump(_ path: String, to sink: Sink) -> Int32 {
        let l: Loaded
        do { l = try load(path) } catch { return report(error, path, to: sink) }
        let c = l.contents
        let cache = Dictionary(c.acls.map { ($0.key, $0.acl) }, uniquingKeysWith: { a, _ in a })
        for s in c.sessions { sink.out("session \(Format.hex(s.id)) timeout=\(s.timeout)") }
        for a in c.acls { sink.out("acl \(a.key) \(Format.acl(a.acl))") }
        for n in c.nodes { sink.out(nodeLine(n, cache)) }
        sink.out(summary(c))
        return Status.ok
    }

    static func verify(_ path: String, to sink: Sink) -> Int32 {
        let l: Loaded
        do { l = try load(path) } catch { return report(error, path, to: sink) }
        let c = l.contents
        let known = Set(c.acls.map(\.key))
        let unknown = Set(c.nodes.map(\.aclKey).filter { $0 != -1 && !known.contains($0) })
        if !unknown.isEmpty {
            // Apache only logs these ("Ignoring acl"): a fuzzy snapshot can catch
            // a node whose list was released meanwhile; replay fixes it.
            sink.err("note: \(path): ACL keys not in the cache: \(unknown.sorted().map(String.init).joined(separator: ","))")
        }
        sink.out("\(path): \(summary(c)), seals ok")
        return Status.ok
    }
}
