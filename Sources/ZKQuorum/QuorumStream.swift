// Reading the quorum port's stream: jute records with no framing of their
// own, pulled from a blocking source as each field needs them, so a learner
// can read a SNAP of any size without holding it twice. Limits keep a
// confused or hostile peer from making us allocate without bound.
import NIOCore
import ZKJute

/// Where stream bytes come from: a BlockingSocket, or memory in tests.
public protocol QuorumByteSource {
    func readFully(_ count: Int) throws -> ByteBuffer
}

extension BlockingSocket: QuorumByteSource {}

/// An in-memory source (tests, and replaying captured streams).
public final class BufferSource: QuorumByteSource {
    private var buffer: ByteBuffer
    public init(_ buffer: ByteBuffer) { self.buffer = buffer }
    public func readFully(_ count: Int) throws -> ByteBuffer {
        guard let b = buffer.readSlice(length: count) else { throw JuteError.truncated("stream ended") }
        return b
    }
    public var remaining: Int { buffer.readableBytes }
}

public struct QuorumStreamReader {
    public let source: any QuorumByteSource
    /// The largest buffer or string accepted (jute.maxbuffer plus slack).
    public let maxBytes: Int

    public init(_ source: any QuorumByteSource, maxBytes: Int) {
        self.source = source
        self.maxBytes = maxBytes
    }

    public func int() throws -> Int32 {
        var b = try source.readFully(4)
        return try b.readJuteInt()
    }

    public func long() throws -> Int64 {
        var b = try source.readFully(8)
        return try b.readJuteLong()
    }

    /// A jute buffer: length, then bytes; -1 is null.
    public func buffer() throws -> [UInt8]? {
        let len = try int()
        if len == -1 { return nil }
        guard len >= 0, Int(len) <= maxBytes else { throw JuteError.badLength("buffer", len) }
        let b = try source.readFully(Int(len))
        return Array(b.readableBytesView)
    }

    public func string() throws -> String? {
        try buffer().map { String(decoding: $0, as: UTF8.self) }
    }

    /// A record whose fields are all fixed-size or length-prefixed: read the
    /// bytes it needs field by field, then decode with its own reader.
    public func packet() throws -> QuorumPacket {
        let type = try int()
        let zxid = try long()
        let data = try buffer()
        let count = try int()
        var auth: [Id]? = nil
        if count >= 0 {
            guard count <= 1024 else { throw JuteError.badLength("authinfo", count) }
            auth = []
            for _ in 0..<count {
                let scheme = try string() ?? ""
                let id = try string() ?? ""
                auth!.append(Id(scheme: scheme, id: id))
            }
        } else if count != -1 {
            throw JuteError.badLength("authinfo", count)
        }
        return QuorumPacket(type: type, zxid: zxid, data: data, authinfo: auth)
    }
}
