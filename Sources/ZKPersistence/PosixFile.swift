// The few POSIX file calls the log and snapshots need and Foundation does not
// offer: positioned writes, fdatasync, ftruncate for sparse preallocation.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

public struct PersistenceError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

final class PosixFile {
    let path: String
    private(set) var fd: Int32

    init(path: String, create: Bool) throws(PersistenceError) {
        self.path = path
        // Creating truncates, as Apache's FileOutputStream does: a leftover file
        // of the same name holds nothing recovery kept.
        fd = open(path, create ? (O_RDWR | O_CREAT | O_TRUNC) : O_RDWR, 0o644)
        if fd < 0 { throw PersistenceError("cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(PersistenceError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw PersistenceError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    func truncate(to length: Int) throws(PersistenceError) {
        if ftruncate(fd, off_t(length)) != 0 {
            throw PersistenceError("cannot resize \(path): \(String(cString: strerror(errno)))")
        }
    }

    func sync(dataOnly: Bool = true) throws(PersistenceError) {
        #if os(Linux)
        let rc = dataOnly ? fdatasync(fd) : fsync(fd)
        #else
        let rc = fsync(fd)
        #endif
        if rc != 0 { throw PersistenceError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    deinit { close() }

    /// Replaces `path` with `bytes` so a crash leaves the old file or the new
    /// one: write `path.tmp`, fsync it, rename it over, fsync the directory
    /// (AtomicFileOutputStream). Without `fsync` only the rename protects it.
    static func writeAtomically(_ bytes: ByteBuffer, to path: String, fsync: Bool) throws(PersistenceError) {
        let tmp = path + ".tmp"
        unlink(tmp)
        let f = try PosixFile(path: tmp, create: true)
        try bytes.withUnsafeReadableBytes { (buf) throws(PersistenceError) in try f.write(buf, at: 0) }
        if fsync { try f.sync(dataOnly: false) }
        f.close()
        if rename(tmp, path) != 0 {
            throw PersistenceError("cannot rename \(tmp) to \(path): \(String(cString: strerror(errno)))")
        }
        if fsync { syncDirectory((path as NSString).deletingLastPathComponent) }
    }

    /// Makes a rename or a new file in `dir` durable.
    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY)
        if fd >= 0 { _ = fsync(fd); _ = Glibc.close(fd) }
    }
}

/// File naming and listing shared by logs and snapshots (Util in Apache).
public enum DataDirectory {
    public static let versionDir = "version-2"

    public static func versionPath(_ base: String) -> String { (base as NSString).appendingPathComponent(versionDir) }

    /// `prefix.<hex zxid>`, lower case, no leading zeros.
    public static func name(_ prefix: String, _ zxid: Int64) -> String {
        prefix + "." + String(UInt64(bitPattern: zxid), radix: 16)
    }

    /// The zxid in `prefix.<hex>[.suffix]`, nil for other names.
    public static func zxid(of name: String, prefix: String) -> Int64? {
        guard name.hasPrefix(prefix + ".") else { return nil }
        let rest = name.dropFirst(prefix.count + 1)
        let hex = rest.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
        return UInt64(hex, radix: 16).map { Int64(bitPattern: $0) }
    }

    /// Files of one kind in `dir`, sorted by zxid ascending.
    public static func list(_ dir: String, prefix: String) -> [(zxid: Int64, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { n in zxid(of: n, prefix: prefix).map { ($0, (dir as NSString).appendingPathComponent(n)) } }
            .sorted { $0.zxid < $1.zxid }
    }

    public static func readFile(_ path: String) throws(PersistenceError) -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path) else { throw PersistenceError("cannot read \(path)") }
        return [UInt8](d)
    }
}
