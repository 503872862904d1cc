// Splits the client byte stream into frames: a 4-byte big-endian length, then
// that many bytes. The very first 4 bytes of a connection may instead be a
// four-letter word (NIOServerCnxn.readLength / checkFourLetterWord).
import NIOCore

public enum ZKFrame {
    case frame(ByteBuffer)
    /// A four-letter word; `arg` is stmk's 8-byte trace mask.
    case fourLetterWord(String, arg: Int64?)
}

public struct FrameTooLarge: Error, CustomStringConvertible {
    public let length: Int32
    public var description: String { "Len error \(length)" }
}

public struct ZKFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ZKFrame
    let maxFrameBytes: Int
    private var first = true

    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let len = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        if first, let word = FourLetterWords.word(for: len) {
            if word == "stmk" {
                guard buffer.readableBytes >= 12 else { return .needMoreData }
                buffer.moveReaderIndex(forwardBy: 4)
                let mask = buffer.readInteger(as: Int64.self)!
                first = false
                context.fireChannelRead(wrapInboundOut(.fourLetterWord(word, arg: mask)))
                return .continue
            }
            buffer.moveReaderIndex(forwardBy: 4)
            first = false
            context.fireChannelRead(wrapInboundOut(.fourLetterWord(word, arg: nil)))
            return .continue
        }
        if len < 0 || Int(len) > maxFrameBytes { throw FrameTooLarge(length: len) }
        guard buffer.readableBytes >= 4 + Int(len) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(len))!
        first = false
        context.fireChannelRead(wrapInboundOut(.frame(frame)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
