// One `server.N` line of zoo.cfg (QuorumPeer.QuorumServer):
// host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort].
// Parsing and the text form Apache sends in notifications and NEWLEADER are
// pure; resolving the host happens where the sockets are.

public enum LearnerType: String, Sendable {
    case participant, observer
}

public struct QuorumServer: Equatable, Sendable {
    public var id: Int64
    public var host: String
    public var quorumPort: Int
    public var electionPort: Int
    public var type: LearnerType
    public var clientHost: String?
    public var clientPort: Int?

    public init(id: Int64, host: String, quorumPort: Int, electionPort: Int, type: LearnerType = .participant,
                clientHost: String? = nil, clientPort: Int? = nil) {
        self.id = id; self.host = host; self.quorumPort = quorumPort; self.electionPort = electionPort
        self.type = type; self.clientHost = clientHost; self.clientPort = clientPort
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Parses the value of `server.<id>=`.
    public init(id: Int64, parsing text: String) throws(ParseError) {
        let wrong = ParseError(reason: "\(text) does not have the form server_config or server_config;client_config where server_config is the pipe separated list of host:port:port or host:port:port:type and client_config is port or host:port")
        let serverClient = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard serverClient.count <= 2 else { throw wrong }
        if serverClient[0].contains("|") {
            throw ParseError(reason: "Multiple address feature is disabled, but multiple addresses were specified for sid \(id)")
        }
        let parts = try Self.hostAndPort(serverClient[0])
        guard parts.count == 3 || parts.count == 4 else { throw wrong }
        guard let qp = Self.port(parts[1]) else { throw ParseError(reason: "Address unresolved: \(parts[0]):\(parts[1])") }
        guard let ep = Self.port(parts[2]) else { throw ParseError(reason: "Address unresolved: \(parts[0]):\(parts[2])") }
        guard qp != ep else {
            throw ParseError(reason: "Client and election port must be different! Please update the configuration file on server.\(id)")
        }
        var type = LearnerType.participant
        if parts.count == 4 {
            guard let t = LearnerType(rawValue: parts[3].lowercased()) else {
                throw ParseError(reason: "Unrecognised peertype: \(parts[3])")
            }
            type = t
        }
        self.init(id: id, host: parts[0], quorumPort: qp, electionPort: ep, type: type)
        if serverClient.count == 2 {
            let client = try Self.hostAndPort(serverClient[1])
            guard client.count <= 2, let cp = Self.port(client[client.count - 1]) else { throw wrong }
            clientHost = client.count == 2 ? client[0] : "0.0.0.0"
            clientPort = cp
        }
    }

    /// The text form of QuorumServer.toString: the client address only when
    /// the server line gave one.
    public var configText: String {
        var s = "\(Self.bracketed(host)):\(quorumPort):\(electionPort):\(type.rawValue)"
        if let clientHost, let clientPort { s += ";\(Self.bracketed(clientHost)):\(clientPort)" }
        return s
    }

    private static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    private static func port(_ s: String) -> Int? {
        guard let p = Int(s), (0...65535).contains(p) else { return nil }
        return p
    }

    /// Splits "host:port[:...]" with an optional [IPv6] host (ConfigUtils.getHostAndPort).
    static func hostAndPort(_ s: String) throws(ParseError) -> [String] {
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw ParseError(reason: "\(s) starts with '[' but has no matching ']'") }
            let host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            if rest.isEmpty { return [host] }
            guard rest.hasPrefix(":") else { throw ParseError(reason: "\(s) does not have : after ]") }
            return [host] + rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
        return s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }
}
