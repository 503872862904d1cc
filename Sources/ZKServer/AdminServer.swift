// The AdminServer (Apache's JettyAdminServer) on SwiftNIO's HTTP/1.1:
// GET <commandURL> lists the commands as links, GET <commandURL>/<name>
// answers one in JSON (query parameters are its arguments). Answers come
// from whatever server the client port serves now, so a peer between roles
// says "not currently serving" here too.
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

public final class AdminServer: Sendable {
    private let factory: NIOServerCnxnFactory
    private let host: String
    private let port: Int
    private let commandURL: String
    private let group: MultiThreadedEventLoopGroup
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)

    public init(config: ServerConfig, factory: NIOServerCnxnFactory) {
        self.factory = factory
        host = config.adminServerAddress
        port = config.adminServerPort
        commandURL = config.adminCommandURL
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Binds the port; on failure the caller logs it and carries on without
    /// an AdminServer, as Apache does.
    public func start() throws {
        let factory = factory, commandURL = commandURL
        let ch = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(factory: factory, commandURL: commandURL))
                }
            }
            .bind(host: host, port: port).wait()
        channel.withLockedValue { $0 = ch }
        Logger(label: "zkswiftd.AdminServer").info("Started AdminServer on address \(host), port \(port) and command URL \(commandURL)")
    }

    public var localPort: Int? { channel.withLockedValue { $0 }?.localAddress?.port }

    public func shutdown() {
        try? channel.withLockedValue { $0 }?.close().wait()
        try? group.syncShutdownGracefully()
    }
}

final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let factory: NIOServerCnxnFactory
    private let commandURL: String
    private var head: HTTPRequestHead?

    init(factory: NIOServerCnxnFactory, commandURL: String) {
        self.factory = factory
        self.commandURL = commandURL
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            let (status, contentType, body) = answer(h)
            respond(context, h, status, contentType, body)
        }
    }

    private func answer(_ h: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let parts = URLComponents(string: h.uri)
        let path = parts?.path ?? h.uri
        guard h.method == .GET || h.method == .HEAD else {
            return (.methodNotAllowed, "text/html;charset=utf-8", Self.errorPage(405, "HTTP method \(h.method.rawValue) is not supported by this URL"))
        }
        if path == commandURL || path == commandURL + "/" {
            let links = AdminCommands.primaryNames.map { "<a href=\"\(commandURL)/\($0)\">\($0)</a>\n<br/>\n" }.joined()
            return (.ok, "text/html;charset=utf-8", links)
        }
        guard path.hasPrefix(commandURL + "/") else { return (.notFound, "text/html;charset=utf-8", Self.errorPage(404, "Not Found")) }
        let name = String(path.dropFirst(commandURL.count + 1))
        var args: [String: String] = [:]
        for q in parts?.queryItems ?? [] { args[q.name] = q.value ?? "" }
        let json = AdminCommands.run(name, zks: factory.zooKeeperServer, factory: factory, args: args)
        return (.ok, "application/json", json.rendered())
    }

    private static func errorPage(_ code: Int, _ message: String) -> String {
        "<html>\n<head>\n<title>Error \(code) \(message)</title>\n</head>\n<body><h2>HTTP ERROR \(code) \(message)</h2>\n</body>\n</html>\n"
    }

    private func respond(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ status: HTTPResponseStatus,
                         _ contentType: String, _ body: String) {
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
