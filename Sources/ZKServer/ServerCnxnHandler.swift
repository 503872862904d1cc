// The per-connection channel handler on the NIO event loop: the first frame
// must be a ConnectRequest, frames that follow it wait until the session is
// set up, then every frame goes to ZooKeeperServer.processPacket. Bad input
// closes this connection with one WARN line and touches nothing else.
import Foundation
import Logging
import NIOCore
import ZKJute

/// Fired into the pipeline (from any thread) once the connect reply is out.
struct SessionReady { let valid: Bool }

/// Fired into the pipeline when the server's backlog is below the limit again.
struct Unthrottle {}

final class ServerCnxnHandler: ChannelInboundHandler {
    typealias InboundIn = ZKFrame

    private enum State { case awaitingConnect, connecting, established, closing }

    /// nil when the peer has no server running (electing a leader): only
    /// four-letter words are answered then.
    private let server: ZooKeeperServer?
    private var zks: ZooKeeperServer { server! }
    private let factory: NIOServerCnxnFactory
    private var cnxn: ServerCnxn!
    private var state = State.awaitingConnect
    /// Frames read but not yet submitted: while connecting, or while throttled.
    private var pending: [ByteBuffer] = []
    private var throttled = false
    private let logger = Logger(label: "zkswiftd.NIOServerCnxn")

    init(zks: ZooKeeperServer?, factory: NIOServerCnxnFactory) {
        self.server = zks
        self.factory = factory
    }

    func channelActive(context: ChannelHandlerContext) {
        cnxn = ServerCnxn(channel: context.channel, serverStats: server?.serverStats ?? ServerStats())
        if !factory.register(cnxn) {
            logger.warning("Too many connections from \(cnxn.remoteDescription) - max is \(factory.config.maxClientCnxns)")
            state = .closing
            context.close(promise: nil)
            return
        }
        // A connection that never completes its handshake is dropped.
        let timeout = TimeAmount.milliseconds(Int64(factory.config.sessionlessCnxnTimeoutMs))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            guard handler.state == .awaitingConnect else { return }
            handler.logger.info("Closing connection from \(handler.cnxn.remoteDescription): no connect request within \(timeout.nanoseconds / 1_000_000) ms")
            handler.state = .closing
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let cnxn {
            factory.unregister(cnxn)
            server?.connectionClosed(cnxn)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .fourLetterWord(let word, let arg):
            state = .closing
            cnxn.isFourLetterWord = true
            cnxn.packetReceived()
            let out = FourLetterWords.run(word, arg: arg, zks: server, factory: factory)
            var buf = context.channel.allocator.buffer(capacity: out.utf8.count)
            buf.writeString(out)
            context.writeAndFlush(NIOAny(buf), promise: nil)
            cnxn.close(reason: "four letter word")
        case .frame(let frame):
            switch state {
            case .awaitingConnect:
                cnxn.packetReceived()
                guard server?.isRunning == true else {
                    // As Apache: no session while no server runs; the client tries another.
                    logger.info("Closing connection from \(cnxn.remoteDescription): ZooKeeperServer not running")
                    state = .closing
                    context.close(promise: nil)
                    return
                }
                // No more frames until the session is settled; SessionReady may
                // arrive before processConnectRequest even returns.
                state = .connecting
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
                do {
                    try zks.processConnectRequest(cnxn, frame)
                } catch {
                    logger.warning("Closing connection from \(cnxn.remoteDescription): \(error)")
                    state = .closing
                    context.close(promise: nil)
                }
            case .connecting:
                pending.append(frame)
            case .established:
                handlePacket(context, frame)
            case .closing:
                break
            }
        }
    }

    /// Past globalOutstandingLimit a connection stops reading and parks what it
    /// already read, so the server's backlog stays bounded instead of growing.
    private func handlePacket(_ context: ChannelHandlerContext, _ frame: ByteBuffer) {
        if throttled || zks.shouldThrottle {
            pending.append(frame)
            if !throttled {
                throttled = true
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
                registerThrottled(context)
            }
            return
        }
        cnxn.packetReceived()
        if !zks.processPacket(cnxn, frame) {
            state = .closing
        }
    }

    /// The backlog may have drained before we registered; then nobody would
    /// wake us, so look again once registered.
    private func registerThrottled(_ context: ChannelHandlerContext) {
        factory.throttle(cnxn)
        if !zks.shouldThrottle {
            let ch = context.channel
            context.eventLoop.execute { ch.pipeline.fireUserInboundEventTriggered(Unthrottle()) }
        }
    }

    private func drainPending(_ context: ChannelHandlerContext) {
        throttled = false
        while state == .established, !pending.isEmpty {
            if zks.shouldThrottle {
                throttled = true
                registerThrottled(context)
                return
            }
            handlePacket(context, pending.removeFirst())
        }
        if state == .established && !throttled {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Unthrottle {
            if throttled { drainPending(context) }
            return
        }
        guard let ready = event as? SessionReady else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard ready.valid, state == .connecting else {
            state = .closing
            return
        }
        state = .established
        drainPending(context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let peer = cnxn?.remoteDescription ?? "unknown peer"
        if error is FrameTooLarge || error is ByteToMessageDecoderError {
            logger.warning("Closing connection from \(peer): \(error)")
        } else if let e = error as? IOError, e.errnoCode == ECONNRESET || e.errnoCode == EPIPE {
            logger.debug("Connection reset by \(peer)")
        } else {
            logger.warning("Closing connection from \(peer): \(error)")
        }
        state = .closing
        context.close(promise: nil)
    }
}
