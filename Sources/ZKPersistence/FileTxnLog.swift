// Appends transactions to `log.<zxid of first record>` files and makes them
// durable with one fdatasync per batch (FileTxnLog in Apache ZooKeeper). Files
// are preallocated in preAllocSize steps so a sync rarely changes the size.
// Used by one thread, the SyncThread.
import Foundation
import NIOCore
import ZKJute

public final class FileTxnLog {
    public let dir: String
    public let preAllocSize: Int
    public let forceSync: Bool
    private var file: PosixFile?
    private var position = 0
    private var allocated = 0
    private var pending = ByteBuffer()
    public private(set) var lastZxid: Int64
    /// Bytes written to the current file so far (for rolling by size).
    public var currentSize: Int { position + pending.readableBytes }

    public init(dir: String, preAllocSize: Int = 64 * 1024 * 1024, forceSync: Bool = true, lastZxid: Int64 = 0) {
        self.dir = dir
        self.preAllocSize = max(preAllocSize, 4096)
        self.forceSync = forceSync
        self.lastZxid = lastZxid
    }

    /// Queues one record; the file opens on the first record after a roll.
    public func append(_ hdr: TxnHeader, _ txn: Txn, digest: TxnDigest? = nil) throws(PersistenceError) {
        if file == nil {
            let path = (dir as NSString).appendingPathComponent(DataDirectory.name("log", hdr.zxid))
            let f = try PosixFile(path: path, create: true)
            file = f
            position = 0
            allocated = 0
            pending.clear()
            pending.writeBytes(TxnLogFormat.fileHeader())
            PosixFile.syncDirectory(dir)
        }
        TxnLogFormat.appendRecord(TxnLogFormat.payload(hdr, txn, digest: digest), to: &pending)
        lastZxid = hdr.zxid
    }

    /// Writes what was appended and, unless forceSync is off, waits until it is
    /// on disk. Returns the sync time in milliseconds.
    @discardableResult
    public func commit() throws(PersistenceError) -> Int64 {
        guard let f = file, pending.readableBytes > 0 else { return 0 }
        let end = position + pending.readableBytes
        // Grow as Apache's FilePadding does, judged from where this write
        // starts (after the header in a new file, so it is 16 + preAllocSize
        // bytes), and further while the write would not fit. The tail stays
        // sparse zeros, which readers take as the end of the log.
        let start = position == 0 ? TxnLogFormat.headerBytes : position
        if allocated == 0 { allocated = TxnLogFormat.headerBytes }
        if start + 4096 >= allocated || end > allocated {
            var probe = start
            while probe + 4096 >= allocated || end > allocated {
                if probe > allocated {
                    allocated = probe + preAllocSize
                    allocated -= allocated % preAllocSize
                } else {
                    allocated += preAllocSize
                }
                probe = max(probe, min(end, allocated))
            }
            try f.truncate(to: allocated)
        }
        try pending.withUnsafeReadableBytes { (buf) throws(PersistenceError) in try f.write(buf, at: position) }
        position = end
        pending.clear()
        guard forceSync else { return 0 }
        let t0 = DispatchTimeShim.nowMillis()
        try f.sync()
        return DispatchTimeShim.nowMillis() - t0
    }

    /// The next append starts a new file (after a snapshot, as Apache does).
    public func rollLog() throws(PersistenceError) {
        try commit()
        file?.close()
        file = nil
    }

    public func close() {
        _ = try? commit()
        file?.close()
        file = nil
    }
}

enum DispatchTimeShim {
    static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
