// Jute's binary archive over NIO's ByteBuffer: big-endian ints and longs,
// length-prefixed strings/buffers/vectors with -1 for null. Every read checks
// the bytes actually present, so a hostile frame yields JuteError, never a trap.
import NIOCore

public enum JuteError: Error, Equatable, Sendable {
    case truncated(String)
    case badLength(String, Int32)
    case invalid(String)
}

extension ByteBuffer {
    @inlinable public mutating func readJuteInt() throws(JuteError) -> Int32 {
        guard let v = readInteger(as: Int32.self) else { throw .truncated("int") }
        return v
    }

    @inlinable public mutating func readJuteLong() throws(JuteError) -> Int64 {
        guard let v = readInteger(as: Int64.self) else { throw .truncated("long") }
        return v
    }

    @inlinable public mutating func readJuteBool() throws(JuteError) -> Bool {
        guard let v = readInteger(as: UInt8.self) else { throw .truncated("boolean") }
        return v != 0
    }

    @inlinable public mutating func readJuteByte() throws(JuteError) -> Int8 {
        guard let v = readInteger(as: Int8.self) else { throw .truncated("byte") }
        return v
    }

    /// A ustring; nil for length -1. Malformed UTF-8 becomes U+FFFD as in Java.
    public mutating func readJuteString() throws(JuteError) -> String? {
        let len = try readJuteInt()
        if len == -1 { return nil }
        guard len >= 0, Int(len) <= readableBytes else { throw .badLength("ustring", len) }
        return readString(length: Int(len))!
    }

    /// A ustring where null is read as "" (what Java callers mostly do with paths).
    public mutating func readJuteNonNullString() throws(JuteError) -> String {
        try readJuteString() ?? ""
    }

    public mutating func readJuteBuffer() throws(JuteError) -> [UInt8]? {
        let len = try readJuteInt()
        if len == -1 { return nil }
        guard len >= 0, Int(len) <= readableBytes else { throw .badLength("buffer", len) }
        return readBytes(length: Int(len))!
    }

    /// A vector; `element` reads one item. nil for count -1.
    public mutating func readJuteVector<T>(_ element: (inout ByteBuffer) throws(JuteError) -> T) throws(JuteError) -> [T]? {
        let count = try readJuteInt()
        if count == -1 { return nil }
        // every element takes at least one byte, so a count beyond the bytes left is garbage
        guard count >= 0, Int(count) <= readableBytes else { throw .badLength("vector", count) }
        var out: [T] = []
        out.reserveCapacity(Int(count))
        for _ in 0..<count { out.append(try element(&self)) }
        return out
    }

    public mutating func readJuteStringVector() throws(JuteError) -> [String]? {
        try readJuteVector { (b: inout ByteBuffer) throws(JuteError) in try b.readJuteNonNullString() }
    }

    public mutating func readJuteRecordVector<R: JuteRecord>(_: R.Type) throws(JuteError) -> [R]? {
        try readJuteVector { (b: inout ByteBuffer) throws(JuteError) in try R(from: &b) }
    }

    @inlinable public mutating func writeJuteInt(_ v: Int32) { writeInteger(v) }
    @inlinable public mutating func writeJuteLong(_ v: Int64) { writeInteger(v) }
    @inlinable public mutating func writeJuteBool(_ v: Bool) { writeInteger(v ? UInt8(1) : UInt8(0)) }

    /// Java encodes each UTF-16 unit on its own (CESU-8), so characters beyond
    /// the BMP become two 3-byte sequences; for everything else that is UTF-8.
    public mutating func writeJuteString(_ s: String?) {
        guard let s else { writeInteger(Int32(-1)); return }
        let lenIndex = writerIndex
        writeInteger(Int32(0))
        var n = 0
        if s.unicodeScalars.allSatisfy({ $0.value <= 0xffff }) {
            n = writeString(s)
        } else {
            for u in s.utf16 {
                if u < 0x80 {
                    n += writeInteger(UInt8(u))
                } else if u < 0x800 {
                    n += writeInteger(UInt8(0xc0 | (u >> 6))) + writeInteger(UInt8(0x80 | (u & 0x3f)))
                } else {
                    n += writeInteger(UInt8(0xe0 | (u >> 12))) + writeInteger(UInt8(0x80 | ((u >> 6) & 0x3f)))
                        + writeInteger(UInt8(0x80 | (u & 0x3f)))
                }
            }
        }
        setInteger(Int32(n), at: lenIndex)
    }

    public mutating func writeJuteBuffer(_ b: [UInt8]?) {
        guard let b else { writeInteger(Int32(-1)); return }
        writeInteger(Int32(b.count))
        writeBytes(b)
    }

    public mutating func writeJuteVector<T>(_ v: [T]?, _ element: (inout ByteBuffer, T) -> Void) {
        guard let v else { writeInteger(Int32(-1)); return }
        writeInteger(Int32(v.count))
        for e in v { element(&self, e) }
    }

    public mutating func writeJuteStringVector(_ v: [String]?) {
        writeJuteVector(v) { $0.writeJuteString($1) }
    }

    public mutating func writeJuteRecordVector<R: JuteRecord>(_ v: [R]?) {
        writeJuteVector(v) { $1.write(to: &$0) }
    }
}

/// A jute record: fields in declaration order, no tags, no padding.
public protocol JuteRecord: Sendable {
    init(from buf: inout ByteBuffer) throws(JuteError)
    func write(to buf: inout ByteBuffer)
}

extension JuteRecord {
    /// The record's bytes alone (used for multi sub-records and txn payloads).
    public func serialized(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var b = allocator.buffer(capacity: 64)
        write(to: &b)
        return b
    }

    /// Decodes a record that must fill `bytes` exactly or leave trailing bytes
    /// the caller accepts; used by tests and for nested payloads.
    public static func decode(_ bytes: ByteBuffer) throws(JuteError) -> Self {
        var b = bytes
        return try Self(from: &b)
    }
}
