// One socket's life on its event loop: sends the ConnectRequest, turns the
// first frame into a handshake result, then forwards every frame to the client,
// pings when idle and closes the socket when the server goes quiet.
import NIOCore
import ZKJute

enum HandshakeOutcome: Sendable {
    case connected
    case expired
    /// The client was closed or suspended while this attempt was under way.
    case abandoned
}

final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    // Strong on purpose: the pipeline, and with it this reference, goes away
    // when the channel closes, which every path out of a session does.
    private let client: ZooKeeperClient
    private let connectionID: UInt64
    private let connectFrame: ByteBuffer
    private var handshake: EventLoopPromise<HandshakeOutcome>?
    private let handshakeTimeout: TimeAmount
    /// Zero until the server has negotiated it.
    private var sessionTimeout: TimeAmount = .zero
    private var lastSend = NIODeadline.now()
    private var lastReceive = NIODeadline.now()
    private var timer: Scheduled<Void>?

    init(client: ZooKeeperClient, connectionID: UInt64, connectFrame: ByteBuffer,
         requestedTimeoutMs: Int32, handshake: EventLoopPromise<HandshakeOutcome>) {
        self.client = client
        self.connectionID = connectionID
        self.connectFrame = connectFrame
        self.handshake = handshake
        // the Java client's read timeout before a session exists
        self.handshakeTimeout = .milliseconds(Int64(max(requestedTimeoutMs, 1000)) * 2 / 3)
    }

    func channelActive(context: ChannelHandlerContext) {
        lastReceive = .now()
        lastSend = .now()
        context.writeAndFlush(wrapOutboundOut(connectFrame), promise: nil)
        scheduleTick(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        lastReceive = .now()
        guard let promise = handshake else {
            client.frameReceived(connectionID: connectionID, frame: frame)
            return
        }
        handshake = nil
        let response: ConnectResponse
        let readOnly: Bool
        do {
            response = try ConnectResponse(from: &frame)
            // servers answering pre-3.4 clients omit the flag
            readOnly = frame.readableBytes > 0 ? try frame.readJuteBool() : false
        } catch {
            promise.fail(KeeperCode.marshallingError)
            context.close(promise: nil)
            return
        }
        let outcome = client.handshakeCompleted(connectionID: connectionID, channel: context.channel,
                                                response: response, readOnly: readOnly)
        if case .connected = outcome {
            sessionTimeout = .milliseconds(Int64(response.timeOut))
        } else {
            context.close(promise: nil)
        }
        promise.succeed(outcome)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastSend = .now()
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if let promise = handshake {
            handshake = nil
            promise.fail(KeeperCode.connectionLoss)
        } else {
            client.connectionClosed(connectionID: connectionID)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        // a promise must never be dropped unfulfilled
        handshake?.fail(KeeperCode.connectionLoss)
        handshake = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Checked a few times per ping interval, so a ping leaves close to one
    /// third of the session timeout after the last write, and a silence of two
    /// thirds (the Java client's read timeout) counts as a lost connection.
    private func scheduleTick(context: ChannelHandlerContext) {
        let period: TimeAmount
        if sessionTimeout == .zero {
            period = .milliseconds(100)
        } else {
            period = .nanoseconds(min(max(sessionTimeout.nanoseconds / 10, 10_000_000), 1_000_000_000))
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: period) { [self] in
            self.tick(context: context)
        }
    }

    private func tick(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let now = NIODeadline.now()
        if handshake != nil {
            if now - lastSend > handshakeTimeout { context.close(promise: nil); return }
        } else {
            let readTimeout = TimeAmount.nanoseconds(sessionTimeout.nanoseconds * 2 / 3)
            if now - lastReceive > readTimeout { context.close(promise: nil); return }
            if now - lastSend >= .nanoseconds(sessionTimeout.nanoseconds / 3) {
                lastSend = now
                context.writeAndFlush(wrapOutboundOut(Frames.ping), promise: nil)
            }
        }
        scheduleTick(context: context)
    }
}
