// Compressed snapshots (snapshot.compression.method, disk-format.md §5.1):
// Apache wraps the very bytes SnapshotFormat describes in a gzip stream or in
// snappy-java's stream framing and appends ".gz" or ".snappy" to the name. The
// seals inside stay sums over the uncompressed bytes, so compression is only a
// layer around SnapshotFormat. Readers pick the layer by file name, never by
// configuration, so a server can read what it was configured not to write.
import CSnappy
import CZlib

public enum SnapshotCompression {
    public enum Method: String, Sendable, CaseIterable {
        case none = ""
        case gz
        case snappy

        /// A zoo.cfg value: Apache matches the names ignoring case.
        public init?(configValue: String) {
            self.init(rawValue: configValue.lowercased())
        }

        /// Apache decides by the last dot-separated part of the name alone
        /// (SnapStream.getStreamMode): "snapshot.1f.gz.tmp" counts as plain.
        public init(fileName: String) {
            guard let dot = fileName.lastIndex(of: ".") else { self = .none; return }
            self = Method(configValue: String(fileName[fileName.index(after: dot)...])) ?? .none
        }

        public var fileSuffix: String { self == .none ? "" : "." + rawValue }
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// snappy-java's stream header (SnappyCodec): this magic, then format
    /// version 1 and minimum compatible version 1 as big-endian ints.
    public static let snappyMagic: [UInt8] = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let snappyHeader: [UInt8] = snappyMagic + [0, 0, 0, 1, 0, 0, 0, 1]
    /// snappy-java's default block: each block of input is one raw snappy chunk.
    static let snappyBlockSize = 32 * 1024

    /// Apache's quick check before it tries a file (§5.3): the plain stream's
    /// final "/", or the compressed stream's magic at the start.
    public static func passesPreCheck(_ bytes: [UInt8], method: Method) -> Bool {
        switch method {
        case .none: return SnapshotFormat.looksComplete(bytes)
        case .gz: return bytes.starts(with: [0x1f, 0x8b])
        case .snappy: return bytes.starts(with: snappyMagic)
        }
    }

    public static func compress(_ bytes: UnsafeRawBufferPointer, method: Method) throws(Failure) -> [UInt8] {
        switch method {
        case .none: return Array(bytes)
        case .gz: return try gzip(bytes)
        case .snappy: return try snappyFrame(bytes)
        }
    }

    public static func compress(_ bytes: [UInt8], method: Method) throws(Failure) -> [UInt8] {
        let r: Result<[UInt8], Failure> = bytes.withUnsafeBytes { p in
            do throws(SnapshotCompression.Failure) { return .success(try compress(p, method: method)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// The uncompressed stream. Damage is an error naming the compressed
    /// offset; bytes after a complete stream are ignored, as Apache's readers
    /// (java.util.zip, snappy-java) ignore them. No snapshot is empty, so a
    /// stream that holds nothing (a snappy header alone, say) is an error too.
    public static func decompress(_ bytes: [UInt8], method: Method) throws(Failure) -> [UInt8] {
        if method == .none { return bytes }
        let r: Result<[UInt8], Failure> = bytes.withUnsafeBytes { p in
            do throws(SnapshotCompression.Failure) { return .success(method == .gz ? try gunzip(p) : try unsnappy(p)) } catch { return .failure(error) }
        }
        let out = try r.get()
        if out.isEmpty { throw Failure("the \(method.rawValue) stream holds no data") }
        return out
    }

    // MARK: gzip

    /// windowBits 15 + 16 asks zlib for the gzip wrapper (header, CRC-32 and
    /// length trailer) that java.util.zip.GZIPOutputStream writes.
    private static let gzipWindowBits: Int32 = 15 + 16
    private static let zChunk = 1 << 16

    /// Hands zlib the next piece of input once it has used up the last one;
    /// avail_in is 32 bits wide, so at most 1 GiB at a time.
    private static func feed(_ z: inout z_stream, _ input: UnsafeRawBufferPointer, _ fed: inout Int) {
        guard z.avail_in == 0 && fed < input.count else { return }
        let n = min(input.count - fed, 1 << 30)
        z.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: fed).assumingMemoryBound(to: Bytef.self))
        z.avail_in = uInt(n)
        fed += n
    }

    private static func gzip(_ input: UnsafeRawBufferPointer) throws(Failure) -> [UInt8] {
        var z = z_stream()
        guard deflateInit2_(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure("gzip: zlib's deflateInit2 failed")
        }
        defer { deflateEnd(&z) }
        let buf = UnsafeMutablePointer<Bytef>.allocate(capacity: zChunk)
        defer { buf.deallocate() }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 + 64)
        var fed = 0
        while true {
            feed(&z, input, &fed)
            let flush = fed == input.count ? Z_FINISH : Z_NO_FLUSH
            z.next_out = buf
            z.avail_out = uInt(zChunk)
            let rc = deflate(&z, flush)
            out.append(contentsOf: UnsafeBufferPointer(start: buf, count: zChunk - Int(z.avail_out)))
            if rc == Z_STREAM_END { return out }
            guard rc == Z_OK || rc == Z_BUF_ERROR else { throw Failure("gzip: zlib's deflate failed (\(rc))") }
        }
    }

    private static func gunzip(_ input: UnsafeRawBufferPointer) throws(Failure) -> [UInt8] {
        guard input.starts(with: [0x1f, 0x8b]) else { throw Failure("not a gzip stream (no 1f 8b at the start)") }
        var z = z_stream()
        guard inflateInit2_(&z, gzipWindowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure("gzip: zlib's inflateInit2 failed")
        }
        defer { inflateEnd(&z) }
        let buf = UnsafeMutablePointer<Bytef>.allocate(capacity: zChunk)
        defer { buf.deallocate() }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 4)
        var fed = 0
        while true {
            feed(&z, input, &fed)
            z.next_out = buf
            z.avail_out = uInt(zChunk)
            let rc = inflate(&z, Z_NO_FLUSH)
            out.append(contentsOf: UnsafeBufferPointer(start: buf, count: zChunk - Int(z.avail_out)))
            let consumed = fed - Int(z.avail_in)
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                // GZIPInputStream reads on into a following gzip member and
                // takes anything else after a member as the end.
                if input.count - consumed >= 2 && input[consumed] == 0x1f && input[consumed + 1] == 0x8b {
                    inflateReset(&z)
                    continue
                }
                return out
            case Z_BUF_ERROR where z.avail_in == 0 && fed == input.count:
                throw Failure("gzip stream cut short: it ends at byte \(input.count) inside compressed data")
            case Z_BUF_ERROR:
                continue
            default:
                let why = z.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw Failure("corrupt gzip stream near byte \(consumed): \(why)")
            }
        }
    }

    // MARK: snappy-java stream framing

    private static func snappyFrame(_ input: UnsafeRawBufferPointer) throws(Failure) -> [UInt8] {
        var out = snappyHeader
        out.reserveCapacity(snappyHeader.count + input.count / 2 + 64)
        let maxChunk = snappy_max_compressed_length(snappyBlockSize)
        let buf = UnsafeMutablePointer<CChar>.allocate(capacity: maxChunk)
        defer { buf.deallocate() }
        var at = 0
        while at < input.count {
            let n = min(snappyBlockSize, input.count - at)
            var len = maxChunk
            let src = input.baseAddress!.advanced(by: at).assumingMemoryBound(to: CChar.self)
            guard snappy_compress(src, n, buf, &len) == SNAPPY_OK else { throw Failure("snappy: compressing a block failed") }
            appendBigEndian(UInt32(len), to: &out)
            out.append(contentsOf: UnsafeRawBufferPointer(start: buf, count: len))
            at += n
        }
        return out
    }

    private static func unsnappy(_ input: UnsafeRawBufferPointer) throws(Failure) -> [UInt8] {
        guard input.starts(with: snappyMagic) else { throw Failure("not a snappy-java stream (no SNAPPY header at the start)") }
        guard input.count >= snappyHeader.count else { throw Failure("snappy stream cut short inside its header") }
        func int32(at i: Int) -> Int32 {
            Int32(bitPattern: UInt32(input[i]) << 24 | UInt32(input[i + 1]) << 16 | UInt32(input[i + 2]) << 8 | UInt32(input[i + 3]))
        }
        // A stream may be several streams end to end: a chunk length that
        // reads as the first 4 bytes of the magic starts another header.
        let magicHead = int32(at: 0)
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 2)
        var at = snappyHeader.count
        // snappy-java stops at fewer than 4 bytes left, as it does at the end.
        while input.count - at >= 4 {
            let len = int32(at: at)
            if len == magicHead {
                guard input.count - at >= snappyHeader.count else {
                    throw Failure("snappy stream cut short inside a header at byte \(at)")
                }
                guard input[at..<(at + snappyMagic.count)].elementsEqual(snappyMagic) else { break }
                guard int32(at: at + snappyMagic.count) >= 1 else {
                    throw Failure("snappy stream header at byte \(at) has unsupported version \(int32(at: at + snappyMagic.count))")
                }
                at += snappyHeader.count
                continue
            }
            guard len > 0 else { throw Failure("corrupt snappy stream: chunk length \(len) at byte \(at)") }
            guard Int(len) <= input.count - at - 4 else {
                throw Failure("snappy stream cut short: the chunk at byte \(at) needs \(len) bytes, \(input.count - at - 4) are left")
            }
            let chunk = input.baseAddress!.advanced(by: at + 4).assumingMemoryBound(to: CChar.self)
            let n = Int(len)
            // Validating first means a damaged length prefix inside the chunk
            // cannot make us allocate gigabytes.
            var size = 0
            guard snappy_validate_compressed_buffer(chunk, n) == SNAPPY_OK,
                  snappy_uncompressed_length(chunk, n, &size) == SNAPPY_OK else {
                throw Failure("corrupt snappy stream: the chunk at byte \(at) does not decompress")
            }
            if size == 0 { at += 4 + n; continue }
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: size))
            var got = size
            let rc = out.withUnsafeMutableBytes { o in
                snappy_uncompress(chunk, n, o.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self), &got)
            }
            guard rc == SNAPPY_OK, got == size else {
                throw Failure("corrupt snappy stream: the chunk at byte \(at) does not decompress")
            }
            at += 4 + n
        }
        return out
    }

    private static func appendBigEndian(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(v >> 24)); out.append(UInt8(truncatingIfNeeded: v >> 16))
        out.append(UInt8(truncatingIfNeeded: v >> 8)); out.append(UInt8(truncatingIfNeeded: v))
    }
}
