// QuorumCnxManager: the election port (quorum-protocol.md §2). One TCP
// connection per pair of servers carries FastLeaderElection's messages both
// ways; which one survives when both sides dial is settled by the sids, so an
// Apache ZooKeeper 3.8 peer and a zkswiftd peer agree on it.
//
// Threads, as in Apache: `QCMListener` accepts; every accepted socket reads its
// initial message on a short-lived `QCMConnRecv` thread and every dial runs on
// a `QCMConnReq-<sid>` thread, so a silent or dead peer only holds up its own
// attempt; each live connection has a `SendWorker-<sid>` and a
// `RecvWorker-<sid>` blocked on the socket.
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ZKJute
import ZKServer

public final class QuorumCnxManager: @unchecked Sendable {
    // `lock` guards every `var` of this class. The queues and the thread
    // tracker have locks of their own; nothing waits on them, or on a
    // socket, while holding `lock`.

    /// Apache sizes the send queue to 1 so a reconnecting peer never gets a
    /// backlog of stale votes, and drops the oldest when a queue is full.
    public static let sendCapacity = 1
    public static let recvCapacity = 100
    public static let packetMaxSize = 512 * 1024
    /// Handshakes in flight at once; past this an accepted socket is closed
    /// at once, so a flood of idle connections cannot pile up threads.
    static let maxConcurrentHandshakes = 20
    private static let bindRetryDelayMs = 1000
    /// Apache's QuorumPeer.OBSERVER_ID: an observer without a configured id.
    static let observerID = Int64.max

    public let mySid: Int64
    public let view: [Int64: QuorumServer]
    public let listenOnAllIPs: Bool
    public let cnxTimeoutMs: Int
    public let socketTimeoutMs: Int
    public let portBindRetry: Int

    let logger: Logger
    private let bindErrorHandler: (@Sendable (SocketError) -> Void)?
    private let recvQueue = CircularBlockingQueue<(sid: Int64, message: ByteBuffer)>(capacity: QuorumCnxManager.recvCapacity)
    let threads = ThreadTracker()

    private let lock = NIOLock()
    private var senderWorkerMap: [Int64: SendWorker] = [:]
    private var queueSendMap: [Int64: CircularBlockingQueue<ByteBuffer>] = [:]
    private var lastMessageSent: [Int64: ByteBuffer] = [:]
    private var inprogressConnections: Set<Int64> = []
    private var handshaking: [ObjectIdentifier: BlockingSocket] = [:]
    private var listener: BlockingListener?
    private var started = false
    private var shutdown = false
    private var observerCounter: Int64 = -1
    private var nextSerial = 0
    /// Connections accept() has returned so far: orders handshakes that run concurrently.
    private var acceptCount = 0

    /// - Parameters:
    ///   - view: every member, observers included; election addresses come from here.
    ///   - cnxTimeoutMs: dial timeout (`zookeeper.cnxTimeout`).
    ///   - socketTimeoutMs: how long a dialer may take to send its initial
    ///     message (Apache: tickTime * syncLimit, or quorumCnxnTimeoutMs).
    ///   - portBindRetry: attempts to bind the election port, 0 = for ever
    ///     (`zookeeper.electionPortBindRetry`).
    ///   - bindErrorHandler: called once, on the listener thread, when the
    ///     listener gives up; this peer can no longer take part in elections,
    ///     so the daemon should exit (Apache exits with UNABLE_TO_BIND_QUORUM_PORT).
    ///     Without a handler the error is logged.
    public init(myid: Int64, view: [Int64: QuorumServer], listenOnAllIPs: Bool,
                cnxTimeoutMs: Int = 5000, socketTimeoutMs: Int = 10_000, portBindRetry: Int = 3,
                bindErrorHandler: (@Sendable (SocketError) -> Void)? = nil) {
        self.mySid = myid
        self.view = view
        self.listenOnAllIPs = listenOnAllIPs
        self.cnxTimeoutMs = cnxTimeoutMs
        self.socketTimeoutMs = socketTimeoutMs
        self.portBindRetry = max(portBindRetry, 0)
        self.bindErrorHandler = bindErrorHandler
        var logger = Logger(label: "zkswiftd.QuorumCnxManager")
        // Tells the managers of a test apart; in the daemon it is the server's own id.
        logger[metadataKey: "myid"] = "\(myid)"
        self.logger = logger
    }

    // MARK: - public API

    /// Starts the `QCMListener` thread. Returns at once; `isListening` tells
    /// when the port is bound.
    public func start() {
        let go = lock.withLock { () -> Bool in
            guard !started && !shutdown else { return false }
            started = true
            return true
        }
        guard go else { return }
        // The handler runs after the thread has left the tracker, so it may call halt().
        let token = threads.register("QCMListener")
        ZKThread.start(name: "QCMListener") { [self] in
            let failure = runListener()
            threads.unregister(token)
            if let failure {
                if let bindErrorHandler {
                    bindErrorHandler(failure)
                } else {
                    logger.error("\(failure.description)")
                }
            }
        }
    }

    /// Queues `message` for `sid`. To this server it goes straight to the
    /// receive queue; otherwise it replaces anything not yet sent to that
    /// peer, and a connection is opened if there is none.
    public func toSend(sid: Int64, _ message: ByteBuffer) {
        if sid == mySid {
            addToRecvQueue(sid: sid, message)
            return
        }
        let queue = lock.withLock { () -> CircularBlockingQueue<ByteBuffer>? in
            guard !shutdown else { return nil }
            return sendQueueLocked(sid)
        }
        guard let queue else { return }
        queue.offer(message)
        connectOne(sid)
    }

    /// The oldest received message, waiting up to `timeoutMs`; nil on timeout
    /// or once halted.
    public func pollRecvQueue(timeoutMs: Int) -> (sid: Int64, message: ByteBuffer)? {
        recvQueue.poll(timeoutMs: timeoutMs)
    }

    /// True if any send queue is empty (Apache's test, which FLE uses to pick
    /// between resending its notifications and connectAll()).
    public func haveDelivered() -> Bool {
        let queues = lock.withLock { Array(queueSendMap.values) }
        return queues.contains { $0.isEmpty }
    }

    /// Dials every peer something was ever queued for and that has no connection.
    public func connectAll() {
        let sids = lock.withLock { Array(queueSendMap.keys) }
        for sid in sids { connectOne(sid) }
    }

    public func connectedToPeer(_ sid: Int64) -> Bool {
        lock.withLock { senderWorkerMap[sid] != nil }
    }

    public var connectionCount: Int { lock.withLock { senderWorkerMap.count } }

    public var isListening: Bool { lock.withLock { listener != nil } }

    /// Closes the listener and every connection and waits for all threads of
    /// this manager to end. The manager cannot be started again; a new
    /// election uses a new one, as in Apache. Must not be called from a
    /// thread of this manager (the bind error handler is fine).
    public func halt() {
        let (l, workers, pending, queues) = lock.withLock {
            shutdown = true
            defer { listener = nil }
            return (listener, Array(senderWorkerMap.values), Array(handshaking.values), Array(queueSendMap.values))
        }
        l?.close()
        for sock in pending { sock.close() }
        for sw in workers { sw.finish(reason: "shutting down", level: .info) }
        for q in queues { q.wakeAll() }
        recvQueue.wakeAll()
        let left = threads.waitForAll(timeoutMs: cnxTimeoutMs + 2000)
        if !left.isEmpty {
            logger.warning("QuorumCnxManager halted with threads still running: \(left.sorted().joined(separator: ", "))")
        }
    }

    // MARK: - for tests and diagnostics

    struct ConnectionInfo: Equatable {
        var dialedByUs: Bool
        var serial: Int
        var remoteAddress: String
    }

    func connections() -> [Int64: ConnectionInfo] {
        lock.withLock {
            senderWorkerMap.mapValues { ConnectionInfo(dialedByUs: $0.dialedByUs, serial: $0.serial, remoteAddress: $0.sock.remoteAddress) }
        }
    }

    var listenerPort: Int? { lock.withLock { listener?.port } }

    // MARK: - state shared with the workers

    var isShutdown: Bool { lock.withLock { shutdown } }

    private func sendQueueLocked(_ sid: Int64) -> CircularBlockingQueue<ByteBuffer> {
        if let q = queueSendMap[sid] { return q }
        let q = CircularBlockingQueue<ByteBuffer>(capacity: Self.sendCapacity)
        queueSendMap[sid] = q
        return q
    }

    fileprivate func sendQueue(_ sid: Int64) -> CircularBlockingQueue<ByteBuffer> {
        lock.withLock { sendQueueLocked(sid) }
    }

    fileprivate func lastMessage(_ sid: Int64) -> ByteBuffer? { lock.withLock { lastMessageSent[sid] } }

    fileprivate func setLastMessage(_ sid: Int64, _ b: ByteBuffer) { lock.withLock { lastMessageSent[sid] = b } }

    fileprivate func workerFinished(_ sw: SendWorker) {
        let queue = lock.withLock { () -> CircularBlockingQueue<ByteBuffer>? in
            if senderWorkerMap[sw.sid] === sw { senderWorkerMap[sw.sid] = nil }
            return queueSendMap[sw.sid]
        }
        // The worker may be parked in poll(); wake it so it sees it must stop.
        queue?.wakeAll()
    }

    fileprivate func addToRecvQueue(sid: Int64, _ message: ByteBuffer) {
        if recvQueue.offer((sid: sid, message: message)) {
            logger.debug("Receive queue full, dropped the oldest message")
        }
    }

    // MARK: - dialing (connectOne, initiateConnection, startConnection)

    /// Dials `sid` at its configured election address unless connected or dialing already.
    func connectOne(_ sid: Int64) {
        if connectedToPeer(sid) { return }
        guard let server = view[sid] else {
            logger.warning("Invalid server id: \(sid)")
            return
        }
        connectOne(sid, addresses: [(server.host, server.electionPort)])
    }

    private func connectOne(_ sid: Int64, addresses: [(host: String, port: Int)]) {
        let go = lock.withLock { () -> Bool in
            guard !shutdown, senderWorkerMap[sid] == nil else { return false }
            return inprogressConnections.insert(sid).inserted
        }
        guard go else { return }
        threads.start("QCMConnReq-\(sid)") { [self] in
            defer { _ = lock.withLock { inprogressConnections.remove(sid) } }
            initiateConnection(sid, addresses: addresses)
        }
    }

    private func initiateConnection(_ sid: Int64, addresses: [(host: String, port: Int)]) {
        var sock: BlockingSocket?
        var lastError: SocketError?
        for a in addresses {
            do {
                sock = try BlockingSocket.connect(host: a.host, port: a.port, timeoutMs: cnxTimeoutMs,
                                                  isCancelled: { [self] in isShutdown })
                break
            } catch {
                lastError = error
            }
        }
        guard let sock else {
            if !isShutdown {
                let where_ = addresses.map { formatAddress(host: $0.host, port: $0.port) }.joined(separator: "|")
                logger.warning("Cannot open channel to \(sid) at election address \(where_): \(lastError?.description ?? "no address")")
            }
            return
        }
        startConnection(sock, sid: sid)
    }

    private func startConnection(_ sock: BlockingSocket, sid: Int64) {
        var b = ByteBuffer()
        InitialMessage(sid: mySid, addresses: myElectionAddress.map { [$0] } ?? []).write(to: &b)
        do {
            try sock.writeAll(b)
        } catch {
            if !isShutdown { logger.warning("Ignoring exception writing the initial message to server \(sid): \(error)") }
            sock.close()
            return
        }
        if sid > mySid {
            logger.info("Have smaller server identifier, so dropping the connection: (myId:\(mySid) --> sid:\(sid))")
            sock.close()
        } else {
            startWorkers(sock, sid: sid, acceptOrder: nil)
        }
    }

    /// "host:port" as Apache's formatInetAddr prints the configured election address.
    private var myElectionAddress: String? {
        view[mySid].map { formatAddress(host: $0.host, port: $0.electionPort) }
    }

    /// Installs the workers of a connection we keep, finishing those of any
    /// older connection to the same peer: one pair per peer.
    /// `acceptOrder` (nil when we dialed) keeps handshakes that finish out of
    /// order from installing an older connection over a newer one: the peer
    /// keeps the connection it dialed last, so must we. (Apache handles
    /// handshakes one at a time on the listener thread and cannot reorder.)
    private func startWorkers(_ sock: BlockingSocket, sid: Int64, acceptOrder: Int?) {
        enum Outcome { case installed(SendWorker, old: SendWorker?), stale, halted }
        let outcome = lock.withLock { () -> Outcome in
            guard !shutdown else { return .halted }
            if let acceptOrder, let newer = senderWorkerMap[sid]?.acceptOrder, newer > acceptOrder { return .stale }
            nextSerial += 1
            let sw = SendWorker(manager: self, sock: sock, sid: sid, acceptOrder: acceptOrder, serial: nextSerial,
                                installedAfterAccept: acceptCount)
            let old = senderWorkerMap[sid]
            senderWorkerMap[sid] = sw
            _ = sendQueueLocked(sid)
            return .installed(sw, old: old)
        }
        let sw: SendWorker, old: SendWorker?
        switch outcome {
        case .installed(let s, let o):
            (sw, old) = (s, o)
        case .stale:
            logger.info("Dropping connection from server \(sid) at \(sock.remoteAddress): a newer one is in use")
            sock.close()
            return
        case .halted:
            sock.close()
            return
        }
        let dialedByUs = acceptOrder == nil
        old?.finish(reason: "replaced by a new connection", level: .info)
        logger.info("Connection to server \(sid) at \(sock.remoteAddress) established (\(dialedByUs ? "dialed" : "accepted"))")
        threads.start("SendWorker-\(sid)") { sw.runSender() }
        threads.start("RecvWorker-\(sid)") { sw.runReceiver() }
    }

    // MARK: - listening and accepting (Listener, receiveConnection, handleConnection)

    /// Binds, with retries, and accepts until halted. Returns the error that
    /// made it give up, or nil when halted.
    private func runListener() -> SocketError? {
        guard let me = view[mySid] else {
            return SocketError(.unresolved, "Unable to start the election listener: myid \(mySid) is not among the servers")
        }
        let host = listenOnAllIPs ? (me.host.contains(":") ? "::" : "0.0.0.0") : me.host
        let address = formatAddress(host: host, port: me.electionPort)
        var numRetries = 0
        var lastError: SocketError?
        while !isShutdown && (portBindRetry == 0 || numRetries < portBindRetry) {
            let l: BlockingListener
            do {
                l = try BlockingListener(host: host, port: me.electionPort)
            } catch {
                numRetries += 1
                lastError = error
                logger.warning("Exception while listening to address \(address) (attempt \(numRetries)): \(error)")
                if portBindRetry == 0 || numRetries < portBindRetry { sleepUnlessShutdown(Self.bindRetryDelayMs) }
                continue
            }
            let registered = lock.withLock { () -> Bool in
                guard !shutdown else { return false }
                listener = l
                return true
            }
            guard registered else {
                l.close()
                return nil
            }
            logger.info("\(mySid) is accepting connections now, my election bind port: \(formatAddress(host: host, port: l.port))")
            while true {
                let sock: BlockingSocket
                do {
                    sock = try l.accept()
                } catch {
                    if isShutdown { return nil }
                    if case .system(let e) = error.code, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(e) {
                        // Out of descriptors: keep the port and let connections drain.
                        logger.warning("Exception while accepting on \(address): \(error)")
                        sleepUnlessShutdown(100)
                        continue
                    }
                    numRetries += 1
                    lastError = error
                    logger.warning("Exception while listening to address \(address): \(error)")
                    lock.withLock { if listener === l { listener = nil } }
                    l.close()
                    sleepUnlessShutdown(Self.bindRetryDelayMs)
                    break
                }
                numRetries = 0
                let acceptOrder = lock.withLock { () -> Int in
                    acceptCount += 1
                    return acceptCount
                }
                logger.info("Received connection request from \(sock.remoteAddress)")
                receiveConnectionAsync(sock, acceptOrder: acceptOrder)
            }
        }
        if isShutdown { return nil }
        let reason = lastError?.description ?? "unknown error"
        return SocketError(lastError?.code ?? .closed,
                           "Unable to listen on the election address \(address) after \(numRetries) attempts (\(reason)); this server cannot take part in leader election")
    }

    private func sleepUnlessShutdown(_ ms: Int) {
        let deadline = ZKServer.Clock.monotonicMillis() + Int64(ms)
        while !isShutdown && ZKServer.Clock.monotonicMillis() < deadline { usleep(20_000) }
    }

    private func receiveConnectionAsync(_ sock: BlockingSocket, acceptOrder: Int) {
        let key = ObjectIdentifier(sock)
        let accepted = lock.withLock { () -> Bool in
            guard !shutdown, handshaking.count < Self.maxConcurrentHandshakes else { return false }
            handshaking[key] = sock
            return true
        }
        guard accepted else {
            if !isShutdown { logger.warning("Too many election connections being set up; closing the one from \(sock.remoteAddress)") }
            sock.close()
            return
        }
        threads.start("QCMConnRecv") { [self] in
            handleConnection(sock, acceptOrder: acceptOrder)
            _ = lock.withLock { handshaking.removeValue(forKey: key) }
        }
    }

    private func handleConnection(_ sock: BlockingSocket, acceptOrder: Int) {
        let initial: InitialMessage
        var electionAddresses: [(host: String, port: Int)] = []
        do {
            initial = try readInitialMessage(sock)
            for text in initial.addresses {
                let parts: [String]
                do { parts = try QuorumServer.hostAndPort(text) } catch { throw JuteError.invalid("badly formed address \(text)") }
                guard parts.count == 2 else { throw JuteError.invalid("badly formed address \(text)") }
                guard let port = Int(parts[1]), (0...65535).contains(port) else {
                    throw JuteError.invalid("bad port number in \(text)")
                }
                if !isWildcardAddress(parts[0]) { electionAddresses.append((parts[0], port)) }
            }
        } catch let e as SocketError {
            if !isShutdown { logger.warning("Exception reading the initial message from \(sock.remoteAddress): \(e)") }
            sock.close()
            return
        } catch {
            logger.warning("Initial message from \(sock.remoteAddress) rejected: \(error)")
            sock.close()
            return
        }
        var sid = initial.sid
        if sid == Self.observerID {
            sid = lock.withLock { defer { observerCounter -= 1 }; return observerCounter }
            logger.info("Setting arbitrary identifier to observer: \(sid)")
        }

        if sid < mySid {
            // A connection we dialed after this socket was accepted answers
            // this request already; tearing it down would only cause churn.
            let (old, stale) = lock.withLock { () -> (SendWorker?, Bool) in
                guard let w = senderWorkerMap[sid] else { return (nil, false) }
                return (w, w.dialedByUs && w.installedAfterAccept >= acceptOrder)
            }
            if stale {
                logger.info("Dropping an earlier connection request from server \(sid): connected to it since")
                sock.close()
                return
            }
            // This side may still think its connection to sid is up; drop it
            // before dialing back, which is the connection that will stay.
            old?.finish(reason: "server \(sid) connected again", level: .info)
            sock.close()
            logger.info("Server \(sid) has the smaller identifier, dropping its connection and dialing it")
            if electionAddresses.isEmpty {
                connectOne(sid)
            } else {
                connectOne(sid, addresses: electionAddresses)
            }
        } else if sid == mySid {
            logger.warning("We got a connection request from a server with our own ID (\(sid)) at \(sock.remoteAddress). This should be either a configuration error, or a bug.")
            sock.close()
        } else {
            do {
                try sock.setReadTimeout(ms: 0)
            } catch {
                sock.close()
                return
            }
            startWorkers(sock, sid: sid, acceptOrder: acceptOrder)
        }
    }

    /// Reads exactly the initial message's bytes (nothing of the frames that
    /// may follow), with the socket timeout.
    private func readInitialMessage(_ sock: BlockingSocket) throws -> InitialMessage {
        try sock.setReadTimeout(ms: socketTimeoutMs)
        var b = try sock.readFully(8)
        while true {
            switch try InitialMessage.read(from: &b) {
            case .message(let m):
                return m
            case .needMore:
                if b.readableBytes == 8 {
                    var more = try sock.readFully(12)
                    b.writeBuffer(&more)
                } else if b.readableBytes == 20, let len = b.getInteger(at: b.readerIndex + 16, as: Int32.self), len > 0 {
                    // read(from:) has already checked len against maxAddressBytes.
                    var more = try sock.readFully(Int(len))
                    b.writeBuffer(&more)
                } else {
                    throw JuteError.invalid("initial message of \(b.readableBytes) bytes")
                }
            }
        }
    }
}

// MARK: - SendWorker / RecvWorker

/// One connection's worker pair. Apache has a SendWorker and a RecvWorker
/// object; here one object owns the socket and runs both threads, since
/// either thread's end ends the connection.
final class SendWorker: @unchecked Sendable {
    // `lock` guards `running`; everything else is immutable.
    let sid: Int64
    let sock: BlockingSocket
    /// Order of the accept() that gave the socket; nil if we dialed it.
    let acceptOrder: Int?
    let serial: Int
    /// The manager's accept count when this connection was installed.
    let installedAfterAccept: Int
    var dialedByUs: Bool { acceptOrder == nil }
    private let manager: QuorumCnxManager
    private let lock = NIOLock()
    private var running = true

    init(manager: QuorumCnxManager, sock: BlockingSocket, sid: Int64, acceptOrder: Int?, serial: Int,
         installedAfterAccept: Int) {
        self.manager = manager; self.sock = sock; self.sid = sid; self.acceptOrder = acceptOrder; self.serial = serial
        self.installedAfterAccept = installedAfterAccept
    }

    var isRunning: Bool { lock.withLock { running } }

    /// Ends the connection once; the first caller's reason is the one logged.
    func finish(reason: String, level: Logger.Level) {
        let first = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        guard first else { return }
        sock.close()
        manager.workerFinished(self)
        manager.logger.log(level: level, "Closing connection to server \(sid) at \(sock.remoteAddress): \(reason)")
    }

    func runSender() {
        let queue = manager.sendQueue(sid)
        // The peer may have lost the last message with the previous
        // connection; a duplicate is harmless, a stale one is not sent if
        // something newer is waiting.
        if queue.isEmpty, let last = manager.lastMessage(sid) {
            do {
                try send(last)
            } catch {
                finish(reason: "failed to send the last message: \(error)", level: .info)
                return
            }
        }
        while isRunning && !manager.isShutdown {
            guard let b = queue.poll(timeoutMs: 1000) else { continue }
            manager.setLastMessage(sid, b)
            do {
                try send(b)
            } catch {
                // This connection may have been replaced while the message was
                // being taken; unless something newer is waiting, hand it to
                // the next connection rather than lose it (Apache drops it).
                queue.offerIfEmpty(b)
                finish(reason: error.description, level: .info)
                return
            }
        }
        finish(reason: "sender stopped", level: .info)
    }

    private func send(_ message: ByteBuffer) throws(SocketError) {
        // One write per frame: with TCP_NODELAY a separate length would be its own packet.
        var frame = ByteBufferAllocator().buffer(capacity: 4 + message.readableBytes)
        frame.writeInteger(Int32(truncatingIfNeeded: message.readableBytes))
        frame.writeImmutableBuffer(message)
        try sock.writeAll(frame)
    }

    func runReceiver() {
        while isRunning && !manager.isShutdown {
            do {
                let header = try sock.readFully(4)
                let length = header.getInteger(at: header.readerIndex, as: Int32.self) ?? 0
                guard length > 0, Int(length) <= QuorumCnxManager.packetMaxSize else {
                    finish(reason: "received packet with invalid length \(length)", level: .warning)
                    return
                }
                let message = try sock.readFully(Int(length))
                manager.addToRecvQueue(sid: sid, message)
            } catch {
                finish(reason: error.code == .endOfStream ? "closed by the peer" : error.description, level: .info)
                return
            }
        }
        finish(reason: "receiver stopped", level: .info)
    }
}

// MARK: - queues and threads

/// A FIFO of bounded size that makes room by dropping its oldest element, so
/// producers never block (Apache's CircularBlockingQueue).
final class CircularBlockingQueue<Element: Sendable>: @unchecked Sendable {
    // `cond` guards items and wakeups.
    private let cond = NSCondition()
    private var items: [Element] = []
    private var wakeups = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(capacity, 1) }

    /// Appends `e`; returns true if the oldest element was dropped for it.
    @discardableResult
    func offer(_ e: Element) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        var dropped = false
        if items.count >= capacity {
            items.removeFirst()
            dropped = true
        }
        items.append(e)
        cond.signal()
        return dropped
    }

    /// Puts `e` back unless something is queued already.
    @discardableResult
    func offerIfEmpty(_ e: Element) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        guard items.isEmpty else { return false }
        items.append(e)
        cond.signal()
        return true
    }

    /// The oldest element, waiting up to `timeoutMs`; nil on timeout or when
    /// `wakeAll()` is called (so a worker can notice it was stopped).
    func poll(timeoutMs: Int) -> Element? {
        cond.lock()
        defer { cond.unlock() }
        let deadline = Date(timeIntervalSinceNow: Double(max(timeoutMs, 0)) / 1000)
        let seen = wakeups
        while items.isEmpty {
            if wakeups != seen { return nil }
            if !cond.wait(until: deadline) { break }
        }
        return items.isEmpty ? nil : items.removeFirst()
    }

    func wakeAll() {
        cond.lock()
        wakeups &+= 1
        cond.broadcast()
        cond.unlock()
    }

    var isEmpty: Bool {
        cond.lock(); defer { cond.unlock() }
        return items.isEmpty
    }

    var count: Int {
        cond.lock(); defer { cond.unlock() }
        return items.count
    }
}

/// Counts a manager's live threads so halt() can wait for them: Foundation's
/// Thread has no join.
final class ThreadTracker: @unchecked Sendable {
    // `cond` guards running and next.
    private let cond = NSCondition()
    private var running: [Int: String] = [:]
    private var next = 0

    /// Registers before the thread exists, so a waiter cannot miss it.
    func register(_ name: String) -> Int {
        cond.lock(); defer { cond.unlock() }
        next += 1
        running[next] = name
        return next
    }

    func unregister(_ token: Int) {
        cond.lock()
        running[token] = nil
        if running.isEmpty { cond.broadcast() }
        cond.unlock()
    }

    func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let token = register(name)
        ZKThread.start(name: name) { [self] in
            body()
            unregister(token)
        }
    }

    /// Waits until no thread is left, or the timeout; returns the names of those left.
    func waitForAll(timeoutMs: Int) -> [String] {
        cond.lock(); defer { cond.unlock() }
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
        while !running.isEmpty {
            if !cond.wait(until: deadline) { break }
        }
        return Array(running.values)
    }

    var count: Int {
        cond.lock(); defer { cond.unlock() }
        return running.count
    }
}
