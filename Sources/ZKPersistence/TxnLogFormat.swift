// The transaction log's byte layout (FileTxnLog in Apache ZooKeeper): a
// 16-byte file header, then records {checksum, length, TxnHeader + txn
// [+ TxnDigest], 0x42}, then zero padding. Pure encode/decode; files are
// handled by FileTxnLog and TxnLogReader.
import NIOCore
import ZKJute

public enum TxnLogFormat {
    public static let magic: Int32 = 0x5a4b_4c47   // "ZKLG"
    public static let version: Int32 = 2
    public static let headerBytes = 16
    public static let endOfRecord: UInt8 = 0x42    // 'B'

    public static func fileHeader() -> [UInt8] {
        var b = ByteBuffer()
        b.writeInteger(magic); b.writeInteger(version); b.writeInteger(Int64(0))
        return Array(b.readableBytesView)
    }

    /// The payload of one record: header, txn body, optional digest.
    public static func payload(_ hdr: TxnHeader, _ txn: Txn, digest: TxnDigest? = nil) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(64)
        hdr.write(to: &b)
        txn.write(to: &b)
        digest?.write(to: &b)
        return b
    }

    /// checksum, length, payload, 'B'.
    public static func appendRecord(_ payload: ByteBuffer, to out: inout ByteBuffer) {
        out.writeInteger(Int64(Adler32.checksum(payload.readableBytesView)))
        out.writeInteger(Int32(payload.readableBytes))
        out.writeImmutableBuffer(payload)
        out.writeInteger(endOfRecord)
    }

    public struct Record: Sendable {
        public var hdr: TxnHeader
        public var txn: Txn
        public var digest: TxnDigest?
        /// Byte offset of the record in its file.
        public var offset: Int
    }

    /// Decodes a record's payload. Type 13 at top level (written by Apache
    /// 3.8.0-3.8.4 for a top-level check) comes back as `.check` for callers to skip.
    public static func decodePayload(_ payload: ByteBuffer, offset: Int) throws(JuteError) -> Record {
        var b = payload
        let hdr = try TxnHeader(from: &b)
        let txn: Txn
        if hdr.type == OpCode.closeSession.rawValue {
            // The path list is optional (closeSessionTxn.enabled) and so is the
            // digest after it: take the list if it fits exactly, alone or
            // followed by a 12-byte digest; otherwise there is no list.
            var probe = b
            if let paths = try? probe.readJuteStringVector(), probe.readableBytes == 0 || probe.readableBytes == 12 {
                b = probe
                txn = .closeSession(paths: paths)
            } else {
                txn = .closeSession(paths: nil)
            }
        } else {
            txn = try Txn.read(type: hdr.type, from: &b)
        }
        let digest = b.readableBytes >= 12 ? try TxnDigest(from: &b) : nil
        return Record(hdr: hdr, txn: txn, digest: digest, offset: offset)
    }

    /// What reading a record at an offset found.
    public enum Step {
        case record(Record, next: Int)
        /// Zero length or end of file: the log ends here cleanly.
        case end
        /// A record that is not whole or does not check out.
        case damaged(offset: Int, reason: String, recordEnd: Int?)
    }

    public static func step(_ file: ByteBuffer, at offset: Int, maxRecordBytes: Int) -> Step {
        let size = file.writerIndex
        guard offset + 12 <= size else {
            return allZero(file, from: offset) ? .end : .damaged(offset: offset, reason: "truncated record header", recordEnd: nil)
        }
        let crc = file.getInteger(at: offset, as: Int64.self)!
        let len = file.getInteger(at: offset + 8, as: Int32.self)!
        if len == 0 && crc == 0 { return .end }
        if len <= 0 || Int(len) > maxRecordBytes {
            return .damaged(offset: offset, reason: "bad record length \(len)", recordEnd: nil)
        }
        let end = offset + 12 + Int(len) + 1
        guard end <= size else { return .damaged(offset: offset, reason: "truncated record", recordEnd: nil) }
        let payload = file.getSlice(at: offset + 12, length: Int(len))!
        if file.getInteger(at: end - 1, as: UInt8.self) != endOfRecord {
            return .damaged(offset: offset, reason: "missing end-of-record marker", recordEnd: end)
        }
        if UInt32(truncatingIfNeeded: crc) != Adler32.checksum(payload.readableBytesView) || crc >> 32 != 0 {
            return .damaged(offset: offset, reason: "checksum mismatch", recordEnd: end)
        }
        do {
            return .record(try decodePayload(payload, offset: offset), next: end)
        } catch {
            return .damaged(offset: offset, reason: "undecodable record (\(error))", recordEnd: end)
        }
    }

    public static func allZero(_ b: ByteBuffer, from: Int) -> Bool {
        guard from < b.writerIndex else { return true }
        return b.getBytes(at: from, length: b.writerIndex - from)!.allSatisfy { $0 == 0 }
    }
}
