// Shared helpers: hex literals, temp directories, the Apache fixture, and a
// tree digest (disk-format.md §4.5) to compare replay with Apache's logged one.
import Foundation
import NIOCore
import Testing
import ZKData
import ZKJute
import ZKPersistence

/// Bytes from a hex string; whitespace is ignored so doc dumps can be pasted as is.
func hex(_ s: String) -> [UInt8] {
    let digits = Array(s.unicodeScalars.filter { !$0.properties.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex digit count in \(s)")
    var out: [UInt8] = []
    var i = 0
    while i < digits.count {
        out.append(UInt8(String(String.UnicodeScalarView(digits[i..<(i + 2)])), radix: 16)!)
        i += 2
    }
    return out
}

func toHex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

func bytes(_ b: ByteBuffer) -> [UInt8] { Array(b.readableBytesView) }

/// A fresh directory under the system temp dir; pair with `defer { removeTempDir(dir) }`.
/// Tests use this rather than a closure-taking helper: with Swift 6.3.1, a
/// closure inside #expect(...) that is itself inside a closure can be
/// miscompiled so that a later closure in the same scope runs its body.
func makeTempDir() throws -> String {
    let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("zkp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func removeTempDir(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

/// A fresh directory under the system temp dir, removed when `body` returns
/// (only for bodies without #expect/#require inside; see makeTempDir).
func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("zkp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

func readBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
func writeBytes(_ b: [UInt8], _ path: String) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }

enum Fixture {
    /// Fixtures/apache-3.8.0: a dataDir written by Apache ZooKeeper 3.8.0 (see README.md there).
    static var apacheDataDir: String {
        Bundle.module.url(forResource: "Fixtures/apache-3.8.0", withExtension: nil)!.path
    }
    static var apacheVersionDir: String { DataDirectory.versionPath(apacheDataDir) }
    /// The snapshot Apache wrote at its next start after recovering apacheDataDir.
    static var apacheRecoveredSnapshot: String {
        Bundle.module.url(forResource: "Fixtures/apache-3.8.0-recovered/snapshot.29", withExtension: nil)!.path
    }

    /// Copies the Apache dataDir to a temp dir: restore may cut off torn tails.
    static func copyApacheDataDir(to dir: String) throws -> String {
        let dest = (dir as NSString).appendingPathComponent("data")
        try FileManager.default.copyItem(atPath: apacheDataDir, toPath: dest)
        return dest
    }

    static let session: Int64 = 0x0100_0043_5f6a_0000
}

/// zlib's CRC-32 (ISO-HDLC), for the tree digest.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// Apache's tree digest (DigestCalculator, version 2): the wrapping sum of
/// CRC32(path ‖ data ‖ stat) over every node but those under /zookeeper/.
func treeDigest(_ tree: DataTree) -> Int64 {
    var sum: UInt64 = 0
    var stack = ["/"]
    while let path = stack.popLast() {
        guard let n = tree.getNode(path) else { continue }
        for c in n.children { stack.append(path == "/" ? "/" + c : path + "/" + c) }
        if path.hasPrefix("/zookeeper/") { continue }
        var b = ByteBuffer()
        b.writeBytes(path == "/" ? [] : Array(path.utf8))
        b.writeBytes(n.data ?? [])
        let s = n.stat
        b.writeInteger(s.czxid); b.writeInteger(s.mzxid); b.writeInteger(s.pzxid)
        b.writeInteger(s.ctime); b.writeInteger(s.mtime)
        b.writeInteger(s.version); b.writeInteger(s.cversion); b.writeInteger(s.aversion)
        b.writeInteger(s.ephemeralOwner)
        sum &+= UInt64(CRC32.checksum(bytes(b)))
    }
    return Int64(bitPattern: sum)
}
