// Records of the server-to-server protocols (quorum-protocol.md): the election
// port's initial message and notifications, and the quorum port's
// QuorumPacket stream with LearnerInfo. Layouts are Apache ZooKeeper 3.8's.
import NIOCore

/// A peer's role; the raw value is what election notifications carry.
public enum ServerState: Int32, Sendable, CustomStringConvertible {
    case looking = 0, following = 1, leading = 2, observing = 3

    public var description: String {
        switch self {
        case .looking: "LOOKING"
        case .following: "FOLLOWING"
        case .leading: "LEADING"
        case .observing: "OBSERVING"
        }
    }
}

/// zxid = epoch << 32 | counter (ZxidUtils).
public enum Zxid {
    @inlinable public static func epoch(_ zxid: Int64) -> Int64 { zxid >> 32 }
    @inlinable public static func counter(_ zxid: Int64) -> Int64 { zxid & 0xffff_ffff }
    @inlinable public static func make(epoch: Int64, counter: Int64) -> Int64 { epoch << 32 | (counter & 0xffff_ffff) }
}

/// The first thing a dialer sends on the election port (QuorumCnxManager.InitialMessage).
public struct InitialMessage: Equatable, Sendable {
    public static let protocolV1: Int64 = -65536
    public static let protocolV2: Int64 = -65535
    public static let maxAddressBytes = 2048

    public var sid: Int64
    /// "host:port" of the dialer's election address(es); empty in the legacy form.
    public var addresses: [String]

    public init(sid: Int64, addresses: [String]) { self.sid = sid; self.addresses = addresses }

    public func write(to b: inout ByteBuffer) {
        b.writeInteger(Self.protocolV1)
        b.writeInteger(sid)
        let text = addresses.joined(separator: "|")
        b.writeInteger(Int32(text.utf8.count))
        b.writeString(text)
    }

    public enum Parse: Equatable, Sendable {
        case needMore
        case message(InitialMessage)
    }

    /// Reads one initial message, consuming it; `needMore` leaves `b` alone.
    /// A pre-3.5 peer sends only its (non-negative) sid.
    public static func read(from b: inout ByteBuffer) throws(JuteError) -> Parse {
        guard let first = b.getInteger(at: b.readerIndex, as: Int64.self) else { return .needMore }
        if first >= 0 {
            b.moveReaderIndex(forwardBy: 8)
            return .message(InitialMessage(sid: first, addresses: []))
        }
        guard first == protocolV1 || first == protocolV2 else { throw .invalid("unknown protocol version \(first)") }
        guard let sid = b.getInteger(at: b.readerIndex + 8, as: Int64.self),
              let len = b.getInteger(at: b.readerIndex + 16, as: Int32.self) else { return .needMore }
        guard len > 0, Int(len) <= maxAddressBytes else { throw .badLength("initial message address", len) }
        guard let bytes = b.getBytes(at: b.readerIndex + 20, length: Int(len)) else { return .needMore }
        b.moveReaderIndex(forwardBy: 20 + Int(len))
        let text = String(decoding: bytes, as: UTF8.self)
        let addrs = text.split(separator: "|").map(String.init)
        guard !addrs.isEmpty, addrs.allSatisfy({ $0.lastIndex(of: ":") != nil }) else {
            throw .invalid("unparsable address \"\(text)\"")
        }
        return .message(InitialMessage(sid: sid, addresses: addrs))
    }
}

/// An election notification (FastLeaderElection's message), version 2 as 3.8
/// sends it; older, shorter layouts are read as Apache reads them.
public struct ElectionNotification: Equatable, Sendable {
    public static let maxMessageBytes = 512 * 1024

    public var state: ServerState
    public var leader: Int64
    public var zxid: Int64
    public var electionEpoch: Int64
    public var peerEpoch: Int64
    public var version: Int32
    /// The sender's quorum configuration text (version > 1 only).
    public var config: String?

    public init(state: ServerState, leader: Int64, zxid: Int64, electionEpoch: Int64, peerEpoch: Int64,
                version: Int32 = 2, config: String? = nil) {
        self.state = state; self.leader = leader; self.zxid = zxid; self.electionEpoch = electionEpoch
        self.peerEpoch = peerEpoch; self.version = version; self.config = config
    }

    public func write(to b: inout ByteBuffer) {
        b.writeInteger(state.rawValue)
        b.writeInteger(leader)
        b.writeInteger(zxid)
        b.writeInteger(electionEpoch)
        b.writeInteger(peerEpoch)
        b.writeInteger(Int32(2))
        let text = config ?? ""
        b.writeInteger(Int32(text.utf8.count))
        b.writeString(text)
    }

    /// Decodes one framed message body. nil: an unknown state, which Apache
    /// skips without a word; a short or malformed body throws.
    public static func read(message m: ByteBuffer) throws(JuteError) -> ElectionNotification? {
        var b = m
        let size = b.readableBytes
        guard size >= 28 else { throw .truncated("notification of \(size) bytes") }
        let rawState = try b.readJuteInt()
        let leader = try b.readJuteLong(), zxid = try b.readJuteLong(), electionEpoch = try b.readJuteLong()
        var peerEpoch = Zxid.epoch(zxid)
        var version: Int32 = 0
        var config: String? = nil
        if size != 28 {
            peerEpoch = try b.readJuteLong()
            if size != 40 { version = try b.readJuteInt() }
        }
        if version > 1 {
            let len = try b.readJuteInt()
            guard len >= 0, Int(len) <= size, let bytes = b.readBytes(length: Int(len)) else {
                throw .badLength("notification config", len)
            }
            config = String(decoding: bytes, as: UTF8.self)
        }
        guard let state = ServerState(rawValue: rawState) else { return nil }
        return ElectionNotification(state: state, leader: leader, zxid: zxid, electionEpoch: electionEpoch,
                                    peerEpoch: peerEpoch, version: version, config: config)
    }
}

/// Packet types of the learner protocol (Leader.java constants).
public enum QuorumPacketType: Int32, Sendable {
    case request = 1, proposal = 2, ack = 3, commit = 4, ping = 5, revalidate = 6, sync = 7, inform = 8
    case commitAndActivate = 9, newLeader = 10, followerInfo = 11, upToDate = 12, diff = 13, trunc = 14
    case snap = 15, observerInfo = 16, leaderInfo = 17, ackEpoch = 18, informAndActivate = 19
}

/// One record of the quorum port's stream (no length framing of its own).
public struct QuorumPacket: JuteRecord, Equatable {
    public var type: Int32
    public var zxid: Int64
    public var data: [UInt8]?
    public var authinfo: [Id]?

    public init(type: Int32, zxid: Int64, data: [UInt8]? = nil, authinfo: [Id]? = nil) {
        self.type = type; self.zxid = zxid; self.data = data; self.authinfo = authinfo
    }

    public init(_ type: QuorumPacketType, zxid: Int64, data: [UInt8]? = nil, authinfo: [Id]? = nil) {
        self.init(type: type.rawValue, zxid: zxid, data: data, authinfo: authinfo)
    }

    public init(from b: inout ByteBuffer) throws(JuteError) {
        type = try b.readJuteInt()
        zxid = try b.readJuteLong()
        data = try b.readJuteBuffer()
        authinfo = try b.readJuteRecordVector(Id.self)
    }

    public func write(to b: inout ByteBuffer) {
        b.writeJuteInt(type)
        b.writeJuteLong(zxid)
        b.writeJuteBuffer(data)
        b.writeJuteRecordVector(authinfo)
    }

    public var packetType: QuorumPacketType? { QuorumPacketType(rawValue: type) }
}

/// FOLLOWERINFO / OBSERVERINFO payload.
public struct LearnerInfo: JuteRecord, Equatable {
    public static let protocolVersion: Int32 = 0x10000
    public var serverId: Int64
    public var protocolVersion: Int32
    public var configVersion: Int64

    public init(serverId: Int64, protocolVersion: Int32 = LearnerInfo.protocolVersion, configVersion: Int64) {
        self.serverId = serverId; self.protocolVersion = protocolVersion; self.configVersion = configVersion
    }

    public init(from b: inout ByteBuffer) throws(JuteError) {
        serverId = try b.readJuteLong()
        protocolVersion = try b.readJuteInt()
        configVersion = try b.readJuteLong()
    }

    public func write(to b: inout ByteBuffer) {
        b.writeJuteLong(serverId)
        b.writeJuteInt(protocolVersion)
        b.writeJuteLong(configVersion)
    }
}
