// The AdminServer (Apache's JettyAdminServer): GET <commandURL> lists the
// commands as links, GET <commandURL>/<name> answers one in JSON (query
// parameters are its arguments). Answers come from whatever server the
// client port serves now, so a peer between roles says "not currently
// serving" here too.
import Foundation
import Logging
import NIOHTTP1

public final class AdminServer: Sendable {
    private let endpoint: HTTPEndpoint
    private let host: String
    private let port: Int
    private let commandURL: String

    public init(config: ServerConfig, factory: NIOServerCnxnFactory) {
        host = config.adminServerAddress
        port = config.adminServerPort
        let commandURL = config.adminCommandURL
        self.commandURL = commandURL
        endpoint = HTTPEndpoint(host: host, port: port) { h in Self.answer(h, factory: factory, commandURL: commandURL) }
    }

    /// Binds the port; on failure the caller logs it and carries on without
    /// an AdminServer, as Apache does.
    public func start() throws {
        try endpoint.start()
        Logger(label: "zkswiftd.AdminServer").info("Started AdminServer on address \(host), port \(port) and command URL \(commandURL)")
    }

    public var localPort: Int? { endpoint.localPort }

    public func shutdown() { endpoint.shutdown() }

    static func answer(_ h: HTTPRequestHead, factory: NIOServerCnxnFactory, commandURL: String) -> (HTTPResponseStatus, String, String) {
        let parts = URLComponents(string: h.uri)
        let path = parts?.path ?? h.uri
        let html = "text/html;charset=utf-8"
        guard h.method == .GET || h.method == .HEAD else {
            return (.methodNotAllowed, html, HTTPEndpoint.errorPage(405, "HTTP method \(h.method.rawValue) is not supported by this URL"))
        }
        if path == commandURL || path == commandURL + "/" {
            return (.ok, html, AdminCommands.primaryNames.map { "<a href=\"\(commandURL)/\($0)\">\($0)</a>\n<br/>\n" }.joined())
        }
        guard path.hasPrefix(commandURL + "/") else { return (.notFound, html, HTTPEndpoint.errorPage(404, "Not Found")) }
        let name = String(path.dropFirst(commandURL.count + 1))
        var args: [String: String] = [:]
        for q in parts?.queryItems ?? [] { args[q.name] = q.value ?? "" }
        let json = AdminCommands.run(name, zks: factory.zooKeeperServer, factory: factory, args: args)
        return (.ok, "application/json", json.rendered())
    }
}
