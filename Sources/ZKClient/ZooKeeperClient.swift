// The client object: session establishment, request submission with xids in
// send order, reply and notification dispatch, and the reconnect loop that
// resumes the session (auth replay, setWatches2) after a lost connection.
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ZKJute

public final class ZooKeeperClient: Sendable {
    public let hosts: [(host: String, port: Int)]
    /// The session timeout asked for; the server may clamp it (see `negotiatedTimeout`).
    public let requestedTimeout: Int32
    /// Whether this client accepts read-only servers (the ConnectRequest flag).
    public let allowReadOnly: Bool
    /// Notifications and session state changes, in arrival order. Finishes after
    /// the Expired or Closed event. Buffers without limit: consume it or ignore it.
    public let events: AsyncStream<WatchedEvent>

    /// All of the client's sockets live on this one loop.
    let eventLoop: any EventLoop
    let state: NIOLockedValueBox<ClientState>
    let onEvent: (@Sendable (WatchedEvent) -> Void)?

    private init(hosts: [(host: String, port: Int)], sessionTimeout: Int32, readOnly: Bool,
                 session: SessionCredentials?, lastZxidSeen: Int64, eventLoop: any EventLoop,
                 onEvent: (@Sendable (WatchedEvent) -> Void)?) {
        self.hosts = hosts
        self.requestedTimeout = sessionTimeout
        self.allowReadOnly = readOnly
        self.eventLoop = eventLoop
        self.onEvent = onEvent
        let (stream, sink) = AsyncStream<WatchedEvent>.makeStream(bufferingPolicy: .unbounded)
        self.events = stream
        var s = ClientState(sink: sink)
        if let session { s.sessionId = session.id; s.password = session.password }
        s.lastZxid = lastZxidSeen
        self.state = NIOLockedValueBox(s)
    }

    /// Opens a session on the first host that completes a handshake, trying the
    /// hosts in turn for up to the session timeout. With `session`, resumes that
    /// session instead of creating one; a server that no longer knows it (or a
    /// wrong password) makes this throw `KeeperCode.sessionExpired`.
    /// `onEvent` sees the same events as `events`, called on the client's event
    /// loop: it must not block.
    public static func connect(
        hosts: [(String, Int)],
        sessionTimeout: Int32 = 30000,
        readOnly: Bool = false,
        session: SessionCredentials? = nil,
        lastZxidSeen: Int64 = 0,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onEvent: (@Sendable (WatchedEvent) -> Void)? = nil
    ) async throws -> ZooKeeperClient {
        guard !hosts.isEmpty else { throw KeeperCode.badArguments }
        let client = ZooKeeperClient(hosts: hosts.map { (host: $0.0, port: $0.1) }, sessionTimeout: sessionTimeout,
                                     readOnly: readOnly, session: session, lastZxidSeen: lastZxidSeen,
                                     eventLoop: eventLoopGroup.next(), onEvent: onEvent)
        try await client.establishInitialSession()
        return client
    }

    /// `connectString` is the Java form, "host:port,host:port".
    public static func connect(
        _ connectString: String,
        sessionTimeout: Int32 = 30000,
        readOnly: Bool = false,
        session: SessionCredentials? = nil,
        lastZxidSeen: Int64 = 0,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onEvent: (@Sendable (WatchedEvent) -> Void)? = nil
    ) async throws -> ZooKeeperClient {
        let hosts = try HostList.parse(connectString)
        return try await connect(hosts: hosts.map { ($0.host, $0.port) }, sessionTimeout: sessionTimeout,
                                 readOnly: readOnly, session: session, lastZxidSeen: lastZxidSeen,
                                 eventLoopGroup: eventLoopGroup, onEvent: onEvent)
    }

    // MARK: session properties

    public var sessionId: Int64 { state.withLockedValue { $0.sessionId } }
    public var sessionPassword: [UInt8] { state.withLockedValue { $0.password } }
    public var session: SessionCredentials {
        state.withLockedValue { SessionCredentials(id: $0.sessionId, password: $0.password) }
    }
    /// The timeout the server granted in the last handshake, in ms.
    public var negotiatedTimeout: Int32 { state.withLockedValue { $0.negotiatedTimeout } }
    /// The highest zxid seen in a reply, sent as lastZxidSeen and setWatches2's relativeZxid.
    public var lastZxidSeen: Int64 { state.withLockedValue { $0.lastZxid } }
    public var isReadOnly: Bool { state.withLockedValue { $0.readOnly } }
    public var keeperState: KeeperState { state.withLockedValue { $0.keeperState } }
    public var isConnected: Bool { state.withLockedValue { $0.phase == .connected } }

    // MARK: submitting requests

    /// Sends now if connected, queues until the handshake if connecting, and
    /// fails at once otherwise. The reply's err is not interpreted here.
    func enqueue(opcode: Int32, body: ByteBuffer?, watch: WatchRegistration?) -> EventLoopFuture<Reply> {
        let promise = eventLoop.makePromise(of: Reply.self)
        let refusal: KeeperCode? = state.withLockedValue { s in
            switch s.phase {
            case .connected:
                guard let c = s.current else { return .connectionLoss }
                s.write(on: c, opcode: opcode, body: body, promise: promise, watch: watch)
                return nil
            case .connecting:
                s.queued.append(Queued(opcode: opcode, body: body, promise: promise, watch: watch))
                return nil
            case .suspended: return .connectionLoss
            // the Java client reports SESSIONEXPIRED for requests on a closed client
            case .closing, .closed, .expired: return .sessionExpired
            }
        }
        if let refusal { promise.fail(refusal) }
        return promise.futureResult
    }

    func submitAuth(scheme: String, auth: [UInt8]) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let refusal: KeeperCode? = state.withLockedValue { s in
            switch s.phase {
            case .closing, .closed, .expired: return .sessionExpired
            default: break
            }
            // recorded before it is answered, as in Java, so a reconnect replays it
            let info = AuthInfo(id: s.nextAuthID, scheme: scheme, auth: auth)
            s.nextAuthID += 1
            s.authInfos.append(info)
            switch s.phase {
            case .connected:
                guard let c = s.current else { return .connectionLoss }
                s.sendAuth(info, on: c, promise: promise)
                return nil
            case .connecting:
                s.queuedAuthCallers[info.id] = promise
                return nil
            default:
                return .connectionLoss
            }
        }
        if let refusal { promise.fail(refusal) }
        return promise.futureResult
    }

    // MARK: called by ConnectionHandler on the event loop

    func handshakeCompleted(connectionID: UInt64, channel: any Channel,
                            response: ConnectResponse, readOnly: Bool) -> HandshakeOutcome {
        var fx = Effects()
        let outcome: HandshakeOutcome = state.withLockedValue { s in
            guard s.phase == .connecting, s.attemptID == connectionID else { return .abandoned }
            if response.timeOut <= 0 {
                s.expire(&fx)
                return .expired
            }
            let c = Connection(id: connectionID, channel: channel)
            s.current = c
            s.phase = .connected
            s.sessionId = response.sessionId
            s.password = response.passwd ?? []
            s.negotiatedTimeout = response.timeOut
            s.readOnly = readOnly
            s.emit(.session(readOnly ? .connectedReadOnly : .syncConnected), &fx)
            // auth goes first, as in the Java client, so that re-registered
            // watches and queued requests run with the session's identities
            for info in s.authInfos {
                s.sendAuth(info, on: c, promise: s.queuedAuthCallers.removeValue(forKey: info.id))
            }
            for batch in s.watches.setWatches(relativeZxid: s.lastZxid) {
                s.inFlight.append(InFlight(xid: SpecialXid.setWatches, opcode: OpCode.setWatches2.rawValue,
                                           promise: nil, watch: nil))
                c.send(Frames.request(xid: SpecialXid.setWatches, opcode: OpCode.setWatches2.rawValue,
                                      body: batch.serialized()))
            }
            for q in s.queued {
                s.write(on: c, opcode: q.opcode, body: q.body, promise: q.promise, watch: q.watch)
            }
            s.queued.removeAll()
            return .connected
        }
        fx.run(onEvent: onEvent)
        return outcome
    }

    func frameReceived(connectionID: UInt64, frame: ByteBuffer) {
        var frame = frame
        var fx = Effects()
        state.withLockedValue { s in
            guard let c = s.current, c.id == connectionID else { return }
            guard let header = try? ReplyHeader(from: &frame) else {
                fx.channelsToClose.append(c.channel)
                return
            }
            switch header.xid {
            case SpecialXid.notification:
                guard let raw = try? WatcherEvent(from: &frame) else {
                    fx.channelsToClose.append(c.channel)
                    return
                }
                // types only the client generates (or future ones) are not expected here
                guard let type = EventType(rawValue: raw.type) else { return }
                let event = WatchedEvent(type: type, state: KeeperState(rawValue: raw.state) ?? .unknown, path: raw.path)
                s.watches.fired(event)
                s.emit(event, &fx)
            case SpecialXid.ping:
                break
            case SpecialXid.auth:
                guard let waiter = s.authWaiters.popFirst() else { return }
                if header.err == KeeperCode.ok.rawValue {
                    if let p = waiter.promise { fx.auths.append((p, .success(()))) }
                } else {
                    // the server closes the socket next; don't replay a rejected identity
                    s.authInfos.removeAll { $0.id == waiter.authID }
                    s.emit(.session(.authFailed), &fx)
                    fx.fail(waiter.promise, KeeperCode(rawValue: header.err) ?? .authFailed)
                }
            default:
                // replies come in request order; anything else means we lost track
                guard let head = s.inFlight.first, head.xid == header.xid else {
                    fx.channelsToClose.append(c.channel)
                    return
                }
                s.inFlight.removeFirst()
                if header.zxid > 0 { s.lastZxid = header.zxid }
                if let watch = head.watch {
                    for type in watch.apply(err: header.err, to: &s.watches) {
                        s.emit(WatchedEvent(type: type, state: .syncConnected, path: watch.path), &fx)
                    }
                }
                if let p = head.promise { fx.replies.append((p, .success((header, frame)))) }
            }
        }
        fx.run(onEvent: onEvent)
    }

    func connectionClosed(connectionID: UInt64) {
        var fx = Effects()
        state.withLockedValue { s in
            guard let c = s.current, c.id == connectionID else { return }
            s.current = nil
            s.failInFlight(.connectionLoss, &fx)
            if s.phase == .connected {
                s.phase = .connecting
                s.emit(.session(.disconnected), &fx)
                fx.startReconnecting = true
            }
        }
        fx.run(onEvent: onEvent)
        if fx.startReconnecting {
            Task { await self.reconnectLoop() }
        }
    }

    // MARK: connecting

    enum AttemptResult { case handshake(HandshakeOutcome), failed }

    private func nextHost() -> (host: String, port: Int) {
        state.withLockedValue { s in
            let h = hosts[s.hostIndex % hosts.count]
            s.hostIndex += 1
            return h
        }
    }

    /// One TCP connect plus handshake. Only the newest attempt may install its
    /// connection, which `attemptID` enforces.
    func attempt(host: String, port: Int) async -> AttemptResult {
        let (id, request): (UInt64, ConnectRequest) = state.withLockedValue { s in
            s.nextConnectionID += 1
            s.attemptID = s.nextConnectionID
            let password = s.password.isEmpty ? [UInt8](repeating: 0, count: 16) : s.password
            return (s.nextConnectionID, ConnectRequest(lastZxidSeen: s.lastZxid, timeOut: requestedTimeout,
                                                       sessionId: s.sessionId, passwd: password))
        }
        let promise = eventLoop.makePromise(of: HandshakeOutcome.self)
        let frame = Frames.connect(request, readOnly: allowReadOnly)
        let timeoutMs = requestedTimeout
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(Int64(max(1000, Int(requestedTimeout) / hosts.count))))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder()),
                        ConnectionHandler(client: self, connectionID: id, connectFrame: frame,
                                          requestedTimeoutMs: timeoutMs, handshake: promise))
                }
            }
        do {
            _ = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            promise.fail(KeeperCode.connectionLoss)
        }
        do {
            return .handshake(try await promise.futureResult.get())
        } catch {
            return .failed
        }
    }

    private func establishInitialSession() async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(requestedTimeout))
        var failures = 0
        while true {
            let (host, port) = nextHost()
            switch await attempt(host: host, port: port) {
            case .handshake(.connected): return
            case .handshake(.expired): throw KeeperCode.sessionExpired
            case .handshake(.abandoned): throw KeeperCode.connectionLoss
            case .failed:
                failures += 1
                if failures >= hosts.count, clock.now >= deadline {
                    shutDown(.connectionLoss)
                    throw KeeperCode.connectionLoss
                }
                if failures % hosts.count == 0 { try? await Task.sleep(for: .milliseconds(100)) }
            }
        }
    }

    /// Runs while the phase is `.connecting` after a lost connection: one host
    /// after the other, backing off up to a second between rounds, until the
    /// session is resumed, declared expired, or the client is closed.
    private func reconnectLoop() async {
        var failures = 0
        while state.withLockedValue({ $0.phase == .connecting }) {
            if failures > 0, failures % hosts.count == 0 {
                let backoff = min(1000, 50 << min(failures / hosts.count, 5))
                try? await Task.sleep(for: .milliseconds(backoff))
                guard state.withLockedValue({ $0.phase == .connecting }) else { return }
            }
            let (host, port) = nextHost()
            switch await attempt(host: host, port: port) {
            case .handshake: return
            case .failed:
                failures += 1
                var fx = Effects()
                state.withLockedValue { s in
                    if s.phase == .connecting { s.failQueued(.connectionLoss, &fx) }
                }
                fx.run(onEvent: onEvent)
            }
        }
    }

    /// Ends the client without talking to the server.
    private func shutDown(_ code: KeeperCode) {
        var fx = Effects()
        state.withLockedValue { s in
            s.phase = .closed
            if let c = s.current { fx.channelsToClose.append(c.channel) }
            s.current = nil
            s.failInFlight(code, &fx)
            s.failQueued(code, &fx)
            s.finishEvents()
        }
        fx.run(onEvent: onEvent)
    }

    // MARK: closing and testing hooks

    /// Closes the session (closeSession, which deletes its ephemerals), then the
    /// socket. Emits a Closed event and finishes `events`. If disconnected, only
    /// the local side is closed and the session is left to expire on the server.
    public func close() async {
        enum Step { case sendClose(Connection, EventLoopPromise<Reply>), done }
        let promise = eventLoop.makePromise(of: Reply.self)
        var fx = Effects()
        let step: Step = state.withLockedValue { s in
            switch s.phase {
            case .connected:
                guard let c = s.current else { return .done }
                s.phase = .closing
                s.write(on: c, opcode: OpCode.closeSession.rawValue, body: nil, promise: promise, watch: nil)
                return .sendClose(c, promise)
            case .connecting, .suspended:
                s.phase = .closed
                s.failQueued(.sessionExpired, &fx)
                s.emit(.session(.closed), &fx)
                s.finishEvents()
                return .done
            case .closing, .closed, .expired:
                return .done
            }
        }
        fx.run(onEvent: onEvent)
        guard case .sendClose = step else {
            promise.succeed((ReplyHeader(xid: 0, zxid: 0, err: 0), ByteBuffer()))
            return
        }
        _ = try? await promise.futureResult.get()
        fx = Effects()
        state.withLockedValue { s in
            s.phase = .closed
            if let c = s.current { fx.channelsToClose.append(c.channel) }
            s.current = nil
            s.failInFlight(.connectionLoss, &fx)
            s.failQueued(.sessionExpired, &fx)
            s.emit(.session(.closed), &fx)
            s.finishEvents()
        }
        fx.run(onEvent: onEvent)
    }

    /// Testing hook: closes the socket as a network failure would. With
    /// `autoReconnect` the client reconnects on its own; without, it stays
    /// disconnected (requests fail with connectionLoss) until `reconnect()`.
    /// Either way the session stays open on the server.
    public func dropConnection(autoReconnect: Bool = true) async {
        var fx = Effects()
        let channel: (any Channel)? = state.withLockedValue { s in
            guard s.phase == .connected, let c = s.current else { return nil }
            if !autoReconnect {
                s.phase = .suspended
                s.current = nil
                s.failInFlight(.connectionLoss, &fx)
                s.emit(.session(.disconnected), &fx)
            }
            return c.channel
        }
        fx.run(onEvent: onEvent)
        try? await channel?.close()
    }

    /// Resumes the session after `dropConnection(autoReconnect: false)`, trying
    /// each host once. Throws sessionExpired if the server no longer knows it.
    public func reconnect() async throws {
        let proceed = state.withLockedValue { s in
            guard s.phase == .suspended else { return false }
            s.phase = .connecting
            return true
        }
        guard proceed else { return }
        for _ in hosts {
            let (host, port) = nextHost()
            switch await attempt(host: host, port: port) {
            case .handshake(.connected): return
            case .handshake(.expired): throw KeeperCode.sessionExpired
            case .handshake(.abandoned): throw KeeperCode.connectionLoss
            case .failed: continue
            }
        }
        var fx = Effects()
        state.withLockedValue { s in
            if s.phase == .connecting {
                s.phase = .suspended
                s.failQueued(.connectionLoss, &fx)
            }
        }
        fx.run(onEvent: onEvent)
        throw KeeperCode.connectionLoss
    }
}
