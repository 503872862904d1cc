// Everything a ZooKeeperClient mutates, kept in one value behind its lock:
// session identity, the connection in use, requests in flight (in xid order),
// requests waiting for a connection, auth infos and the watch record.
import NIOCore
import ZKJute

typealias Reply = (header: ReplyHeader, body: ByteBuffer)

enum Phase: Sendable, Equatable {
    /// A connection attempt is under way; new requests wait in `queued`.
    case connecting
    case connected
    /// Dropped on purpose without reconnecting (`dropConnection(autoReconnect: false)`).
    case suspended
    /// closeSession is in flight; nothing new is accepted.
    case closing
    case closed
    case expired
}

/// One socket that completed the handshake.
struct Connection: Sendable {
    let id: UInt64
    let channel: any Channel

    /// Every write is queued as an event-loop task, even from the loop itself,
    /// so frames leave in the order their xids were taken under the lock.
    func send(_ frame: ByteBuffer) {
        let channel = self.channel
        channel.eventLoop.execute { channel.writeAndFlush(frame, promise: nil) }
    }
}

struct InFlight: Sendable {
    let xid: Int32
    let opcode: Int32
    /// nil for the setWatches2 packets the client sends on its own behalf.
    let promise: EventLoopPromise<Reply>?
    let watch: WatchRegistration?
}

struct Queued: Sendable {
    let opcode: Int32
    let body: ByteBuffer?
    let promise: EventLoopPromise<Reply>
    let watch: WatchRegistration?
}

struct AuthInfo: Sendable {
    let id: Int
    let scheme: String
    let auth: [UInt8]
}

/// Auth replies (xid -4) are answered by the server outside the request
/// pipeline, so they are matched among themselves, not against `inFlight`.
struct AuthWaiter: Sendable {
    let authID: Int
    let promise: EventLoopPromise<Void>?
}

/// Work decided under the lock and done after releasing it, so that no promise
/// callback, user event handler or channel operation runs while it is held.
struct Effects: Sendable {
    var replies: [(EventLoopPromise<Reply>, Result<Reply, any Error>)] = []
    var auths: [(EventLoopPromise<Void>, Result<Void, any Error>)] = []
    var events: [WatchedEvent] = []
    var channelsToClose: [any Channel] = []
    var startReconnecting = false

    mutating func fail(_ p: EventLoopPromise<Reply>?, _ code: KeeperCode) {
        if let p { replies.append((p, .failure(code))) }
    }

    mutating func fail(_ p: EventLoopPromise<Void>?, _ code: KeeperCode) {
        if let p { auths.append((p, .failure(code))) }
    }

    func run(onEvent: (@Sendable (WatchedEvent) -> Void)?) {
        for (p, r) in replies { p.completeWith(r) }
        for (p, r) in auths { p.completeWith(r) }
        if let onEvent { for e in events { onEvent(e) } }
        for c in channelsToClose { c.close(promise: nil) }
    }
}

struct ClientState: Sendable {
    var phase: Phase = .connecting
    var current: Connection?
    /// The id of the connection whose handshake may still be accepted.
    var attemptID: UInt64 = 0
    var nextConnectionID: UInt64 = 0
    var hostIndex = 0

    var sessionId: Int64 = 0
    var password: [UInt8] = []
    var negotiatedTimeout: Int32 = 0
    var readOnly = false
    var lastZxid: Int64 = 0

    var nextXid: Int32 = 1
    var inFlight = CircularBuffer<InFlight>()
    var queued: [Queued] = []

    var authInfos: [AuthInfo] = []
    var nextAuthID = 0
    var authWaiters = CircularBuffer<AuthWaiter>()
    /// addAuth callers whose packet waits for the handshake, keyed by AuthInfo.id.
    var queuedAuthCallers: [Int: EventLoopPromise<Void>] = [:]

    var watches = WatchRegistry()

    let sink: AsyncStream<WatchedEvent>.Continuation
    var sinkFinished = false

    init(sink: AsyncStream<WatchedEvent>.Continuation) { self.sink = sink }

    /// Java wraps to 1 as well: 0 and negative xids are reserved.
    mutating func takeXid() -> Int32 {
        let xid = nextXid
        nextXid = nextXid == Int32.max ? 1 : nextXid + 1
        return xid
    }

    mutating func write(on c: Connection, opcode: Int32, body: ByteBuffer?,
                        promise: EventLoopPromise<Reply>, watch: WatchRegistration?) {
        let xid = takeXid()
        inFlight.append(InFlight(xid: xid, opcode: opcode, promise: promise, watch: watch))
        c.send(Frames.request(xid: xid, opcode: opcode, body: body))
    }

    mutating func sendAuth(_ info: AuthInfo, on c: Connection, promise: EventLoopPromise<Void>?) {
        authWaiters.append(AuthWaiter(authID: info.id, promise: promise))
        let packet = AuthPacket(type: 0, scheme: info.scheme, auth: info.auth)
        c.send(Frames.request(xid: SpecialXid.auth, opcode: OpCode.auth.rawValue, body: packet.serialized()))
    }

    /// Yielded under the lock so the stream's order is the order of the state
    /// changes and notifications that produced the events.
    mutating func emit(_ event: WatchedEvent, _ fx: inout Effects) {
        guard !sinkFinished else { return }
        sink.yield(event)
        fx.events.append(event)
    }

    mutating func finishEvents() {
        guard !sinkFinished else { return }
        sinkFinished = true
        sink.finish()
    }

    /// Sent requests can never be answered once their socket is gone.
    mutating func failInFlight(_ code: KeeperCode, _ fx: inout Effects) {
        while let r = inFlight.popFirst() { fx.fail(r.promise, code) }
        while let a = authWaiters.popFirst() { fx.fail(a.promise, code) }
    }

    /// Like the Java client's cleanup(): a failed connection attempt fails what
    /// was waiting for it too, so callers never hang on a dead server.
    mutating func failQueued(_ code: KeeperCode, _ fx: inout Effects) {
        for q in queued { fx.fail(q.promise, code) }
        queued.removeAll()
        for (_, p) in queuedAuthCallers { fx.fail(p, code) }
        queuedAuthCallers.removeAll()
    }

    /// Terminal: the server no longer knows the session.
    mutating func expire(_ fx: inout Effects) {
        phase = .expired
        if let c = current { fx.channelsToClose.append(c.channel) }
        current = nil
        failInFlight(.sessionExpired, &fx)
        failQueued(.sessionExpired, &fx)
        emit(.session(.expired), &fx)
        finishEvents()
    }

    var keeperState: KeeperState {
        switch phase {
        case .connected, .closing: readOnly ? .connectedReadOnly : .syncConnected
        case .connecting, .suspended: .disconnected
        case .closed: .closed
        case .expired: .expired
        }
    }
}
