// A small HTTP/1.1 listener on SwiftNIO for the AdminServer and the
// Prometheus endpoint: each request is answered by a function of its head
// (status, content type, body), on the endpoint's one event loop.
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

public final class HTTPEndpoint: Sendable {
    public typealias Answer = @Sendable (HTTPRequestHead) -> (HTTPResponseStatus, String, String)
    private let host: String
    private let port: Int
    private let answer: Answer
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)

    public init(host: String, port: Int, answer: @escaping Answer) {
        self.host = host
        self.port = port
        self.answer = answer
    }

    public func start() throws {
        let answer = answer
        let ch = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HTTPResponder(answer: answer))
                }
            }
            .bind(host: host, port: port).wait()
        channel.withLockedValue { $0 = ch }
    }

    public var localPort: Int? { channel.withLockedValue { $0 }?.localAddress?.port }

    public func shutdown() {
        try? channel.withLockedValue { $0 }?.close().wait()
        try? group.syncShutdownGracefully()
    }

    static func errorPage(_ code: Int, _ message: String) -> String {
        "<html>\n<head>\n<title>Error \(code) \(message)</title>\n</head>\n<body><h2>HTTP ERROR \(code) \(message)</h2>\n</body>\n</html>\n"
    }
}

final class HTTPResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let answer: HTTPEndpoint.Answer
    private var head: HTTPRequestHead?

    init(answer: @escaping HTTPEndpoint.Answer) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            let (status, contentType, body) = answer(h)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            if !h.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: status, headers: headers))), promise: nil)
            if h.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
            if !h.isKeepAlive {
                written.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            }
        }
    }
}
