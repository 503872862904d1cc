// Adler-32, the checksum of Apache ZooKeeper's log records and snapshot seals
// (java.util.zip.Adler32), computed by zlib.
import CZlib

public struct Adler32: Sendable {
    private var state: UInt = 1

    public init() {}

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(buffer: UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update(buffer: $0) } }
    }

    public mutating func update(buffer: UnsafeRawBufferPointer) {
        var rest = buffer
        // zlib takes a 32-bit length.
        while !rest.isEmpty {
            let n = min(rest.count, Int(UInt32.max))
            state = adler32(state, rest.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(n))
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    public var value: UInt32 { UInt32(truncatingIfNeeded: state) }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c = Adler32()
        c.update(bytes)
        return c.value
    }
}
