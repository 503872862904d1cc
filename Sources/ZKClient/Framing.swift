// The client port's framing: every message is a 4-byte big-endian length and
// that many bytes. The decoder splits the stream into frames; the builders
// produce complete frames (length included) for requests.
import NIOCore
import ZKJute

struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Far above the server's 1 MiB jute.maxbuffer: a larger length can only be
    /// a corrupt stream, and refusing it keeps one bad frame from eating memory.
    static let maxFrameBytes = 64 << 20

    enum Failure: Error { case badFrameLength(Int32) }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard length >= 0, Int(length) <= Self.maxFrameBytes else { throw Failure.badFrameLength(length) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // a partial frame at EOF is dropped: its request fails with the connection
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

enum Frames {
    /// RequestHeader + pre-serialized body, length-prefixed.
    static func request(xid: Int32, opcode: Int32, body: ByteBuffer?) -> ByteBuffer {
        let bodyBytes = body?.readableBytes ?? 0
        var frame = ByteBufferAllocator().buffer(capacity: 12 + bodyBytes)
        frame.writeInteger(Int32(8 + bodyBytes))
        RequestHeader(xid: xid, type: opcode).write(to: &frame)
        if let body { frame.writeImmutableBuffer(body) }
        return frame
    }

    /// ConnectRequest plus the trailing readOnly flag every client since 3.4 sends.
    static func connect(_ request: ConnectRequest, readOnly: Bool) -> ByteBuffer {
        var frame = ByteBufferAllocator().buffer(capacity: 64)
        frame.writeInteger(Int32(0))
        request.write(to: &frame)
        frame.writeJuteBool(readOnly)
        frame.setInteger(Int32(frame.readableBytes - 4), at: frame.readerIndex)
        return frame
    }

    static let ping = request(xid: SpecialXid.ping, opcode: OpCode.ping.rawValue, body: nil)

    static func body(_ record: some JuteRecord) -> ByteBuffer { record.serialized() }
}
