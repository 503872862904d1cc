// The data carried inside learner-protocol packets (quorum-protocol.md §5.2,
// §7): forwarded client requests, session revalidation, the session touches
// a learner returns with each PING, and the epoch in ACKEPOCH. Encoders and
// decoders only; the handlers decide what they mean.
import NIOCore
import ZKJute

/// REQUEST data: the client request as the learner received it, after its header.
public struct ForwardedRequest: Equatable, Sendable {
    public var sessionId: Int64
    public var cxid: Int32
    public var type: Int32
    public var body: [UInt8]

    public init(sessionId: Int64, cxid: Int32, type: Int32, body: [UInt8]) {
        self.sessionId = sessionId; self.cxid = cxid; self.type = type; self.body = body
    }

    public var bytes: [UInt8] {
        var b = ByteBuffer()
        b.writeInteger(sessionId); b.writeInteger(cxid); b.writeInteger(type); b.writeBytes(body)
        return Array(b.readableBytesView)
    }

    public init(bytes: [UInt8]) throws(JuteError) {
        var b = ByteBuffer(bytes: bytes)
        sessionId = try b.readJuteLong()
        cxid = try b.readJuteInt()
        type = try b.readJuteInt()
        body = Array(b.readableBytesView)
    }
}

/// REVALIDATE: learner to leader {sessionId, timeout}; leader to learner {sessionId, valid}.
public enum Revalidate {
    public static func request(sessionId: Int64, timeout: Int32) -> [UInt8] {
        var b = ByteBuffer()
        b.writeInteger(sessionId); b.writeInteger(timeout)
        return Array(b.readableBytesView)
    }

    public static func readRequest(_ bytes: [UInt8]) throws(JuteError) -> (sessionId: Int64, timeout: Int32) {
        var b = ByteBuffer(bytes: bytes)
        return (try b.readJuteLong(), try b.readJuteInt())
    }

    public static func reply(sessionId: Int64, valid: Bool) -> [UInt8] {
        var b = ByteBuffer()
        b.writeInteger(sessionId); b.writeJuteBool(valid)
        return Array(b.readableBytesView)
    }

    public static func readReply(_ bytes: [UInt8]) throws(JuteError) -> (sessionId: Int64, valid: Bool) {
        var b = ByteBuffer(bytes: bytes)
        return (try b.readJuteLong(), try b.readJuteBool())
    }
}

/// A learner's PING reply: every session its clients touched since the last
/// one, {sessionId, timeout} repeated, no count (LearnerSessionTracker).
public enum SessionTouches {
    public static func encode(_ touches: [(id: Int64, timeout: Int32)]) -> [UInt8] {
        var b = ByteBuffer()
        for t in touches { b.writeInteger(t.id); b.writeInteger(t.timeout) }
        return Array(b.readableBytesView)
    }

    public static func decode(_ bytes: [UInt8]?) throws(JuteError) -> [(id: Int64, timeout: Int32)] {
        guard let bytes else { return [] }
        guard bytes.count % 12 == 0 else { throw .invalid("session touches of \(bytes.count) bytes") }
        var b = ByteBuffer(bytes: bytes)
        var out: [(id: Int64, timeout: Int32)] = []
        while b.readableBytes > 0 { out.append((try b.readJuteLong(), try b.readJuteInt())) }
        return out
    }
}

/// LEADERINFO data (protocol version) and ACKEPOCH data (the learner's
/// currentEpoch, or -1 when it had already accepted this epoch).
public enum EpochPayload {
    public static func int(_ v: Int32) -> [UInt8] {
        var b = ByteBuffer()
        b.writeInteger(v)
        return Array(b.readableBytesView)
    }

    public static func readInt(_ bytes: [UInt8]?) throws(JuteError) -> Int32 {
        guard let bytes, bytes.count >= 4 else { throw .truncated("epoch payload") }
        var b = ByteBuffer(bytes: bytes)
        return try b.readJuteInt()
    }
}
