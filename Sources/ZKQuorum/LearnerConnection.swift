// The learner's end of the quorum port (Learner.connectToLeader,
// registerWithLeader): dial the leader with retries, introduce ourselves
// with FOLLOWERINFO or OBSERVERINFO, agree on the epoch, then exchange
// QuorumPackets. Reading happens on one thread; writes may come from several
// (acks from the sync thread, ping replies), so they are serialised here.
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import ZKJute
import ZKServer

public final class LearnerConnection: @unchecked Sendable {
    private let socket: BlockingSocket
    private let reader: QuorumStreamReader
    // `writeLock` serialises whole packets on the socket.
    private let writeLock = NIOLock()

    private init(socket: BlockingSocket, maxBytes: Int) {
        self.socket = socket
        reader = QuorumStreamReader(socket, maxBytes: maxBytes)
    }

    /// Dials the leader, up to `attempts` times within `totalMs` (Apache: 5
    /// tries within initLimit ticks). `maxBytes` bounds any buffer the leader sends.
    public static func connect(host: String, port: Int, totalMs: Int, attempts: Int = 5,
                               maxBytes: Int) throws -> LearnerConnection {
        let deadline = Clock.monotonicMillis() + Int64(totalMs)
        var last: (any Error)? = nil
        for attempt in 1...max(attempts, 1) {
            let ms = Int(deadline - Clock.monotonicMillis())
            if ms <= 0 { break }
            do {
                let s = try BlockingSocket.connect(host: host, port: port, timeoutMs: min(ms, 5000))
                return LearnerConnection(socket: s, maxBytes: maxBytes)
            } catch {
                last = error
                if attempt < attempts { Thread.sleep(forTimeInterval: 1) }
            }
        }
        throw last ?? SocketError(.timedOut, "could not connect to the leader at \(host):\(port) in \(totalMs) ms")
    }

    public func send(_ p: QuorumPacket) throws {
        var b = ByteBuffer()
        p.write(to: &b)
        try writeLock.withLock { try socket.writeAll(b) }
    }

    public func read() throws -> QuorumPacket { try reader.packet() }

    /// The stream itself, for the database that follows SNAP.
    public var stream: QuorumStreamReader { reader }

    public func setReadTimeout(ms: Int) throws { try socket.setReadTimeout(ms: ms) }

    public func close() { socket.close() }

    public struct Registration: Sendable, Equatable {
        /// NEWLEADER's zxid for this epoch: newEpoch << 32.
        public var newLeaderZxid: Int64
        public var newEpoch: Int64
    }

    public struct RegistrationFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// FOLLOWERINFO/OBSERVERINFO, LEADERINFO, ACKEPOCH. `persistAcceptedEpoch`
    /// must make the new epoch durable before ACKEPOCH promises it.
    public func register(myid: Int64, observer: Bool, acceptedEpoch: Int64, currentEpoch: Int64,
                         lastLoggedZxid: Int64, configVersion: Int64,
                         persistAcceptedEpoch: (Int64) throws -> Void) throws -> Registration {
        var info = ByteBuffer()
        LearnerInfo(serverId: myid, configVersion: configVersion).write(to: &info)
        try send(QuorumPacket(observer ? .observerInfo : .followerInfo, zxid: Zxid.make(epoch: acceptedEpoch, counter: 0),
                              data: Array(info.readableBytesView)))
        let p = try read()
        guard p.packetType == .leaderInfo else {
            throw RegistrationFailed(description: "expected LEADERINFO from the leader, got packet type \(p.type)")
        }
        let newEpoch = Zxid.epoch(p.zxid)
        let ackData: Int32
        switch LearnerEpochDecision.on(newEpoch: newEpoch, acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch) {
        case .accept(let e, let data):
            try persistAcceptedEpoch(e)
            ackData = data
        case .alreadyAccepted:
            ackData = -1
        case .reject(let why):
            throw RegistrationFailed(description: why)
        }
        try send(QuorumPacket(.ackEpoch, zxid: lastLoggedZxid, data: EpochPayload.int(ackData)))
        return Registration(newLeaderZxid: Zxid.make(epoch: newEpoch, counter: 0), newEpoch: newEpoch)
    }
}
