// The tree digest Apache ZooKeeper 3.6+ keeps next to every txn and snapshot
// (DigestCalculator, version 2): the wrapping sum of a CRC-32 per node over
// path, data and the persisted stat. Peers compare it to detect divergence,
// so ours must come out bit for bit the same.
import CZlib
import ZKJute

public enum DigestCalculator {
    public static let version: Int32 = 2

    /// Nodes below /zookeeper/ (quota, config) are left out by Apache, and the
    /// root counts under the empty path.
    public static func nodeDigest(path: String, data: [UInt8]?, stat: StatPersisted) -> Int64 {
        if path.hasPrefix("/zookeeper/") { return 0 }
        var crc = crc32(0, nil, 0)
        if path != "/" {
            var p = path
            p.withUTF8 { crc = crc32(crc, $0.baseAddress, uInt($0.count)) }
        }
        if let data, !data.isEmpty {
            data.withUnsafeBufferPointer { crc = crc32(crc, $0.baseAddress, uInt($0.count)) }
        }
        withUnsafeBytes(of: statBlock(stat)) { raw in
            crc = crc32(crc, raw.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(raw.count))
        }
        return Int64(crc)
    }

    /// The 60-byte big-endian stat block, pzxid third as Apache orders it.
    private static func statBlock(_ s: StatPersisted) -> StatBlock {
        StatBlock(czxid: s.czxid.bigEndian, mzxid: s.mzxid.bigEndian, pzxid: s.pzxid.bigEndian,
                  ctime: s.ctime.bigEndian, mtime: s.mtime.bigEndian,
                  version: s.version.bigEndian, cversion: s.cversion.bigEndian, aversion: s.aversion.bigEndian,
                  ownerHigh: Int32(truncatingIfNeeded: s.ephemeralOwner >> 32).bigEndian,
                  ownerLow: Int32(truncatingIfNeeded: s.ephemeralOwner).bigEndian)
    }

    // Packed without padding: the long after three ints is split in two ints.
    private struct StatBlock {
        var czxid, mzxid, pzxid, ctime, mtime: Int64
        var version, cversion, aversion: Int32
        var ownerHigh, ownerLow: Int32
    }
}
