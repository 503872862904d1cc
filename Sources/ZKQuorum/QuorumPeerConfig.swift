// The ensemble part of zoo.cfg and the myid file (QuorumPeerConfig): which
// servers make up the ensemble, who this one is, and the quorum timings.
// ServerConfig hands over the quorum keys it saw; errors name the file, line,
// key and value like every other configuration error.
import Foundation
import ZKServer

public struct QuorumPeerConfig: Sendable {
    public var server: ServerConfig
    public var myid: Int64
    public var view: QuorumMaj
    public var initLimit = 0
    public var syncLimit = 0
    public var peerType = LearnerType.participant
    public var electionPortBindRetry = 3
    public var quorumListenOnAllIPs = false
    public var standaloneEnabled = true
    public var localSessionsEnabled = false
    public var localSessionsUpgradingEnabled = true
    public var reconfigEnabled = false
    public var observerSyncEnabled = true
    public var cnxTimeoutMs = 5000
    public var minNotificationIntervalMs = 200
    public var maxNotificationIntervalMs = 60000
    public var commitLogCount = 500
    public var snapshotSizeFactor = 0.33

    /// This server's own line.
    public var me: QuorumServer { view.members[myid]! }

    public enum Mode: Sendable {
        case standalone(ServerConfig)
        case quorum(QuorumPeerConfig)
    }

    /// Standalone unless the configuration lists more than one voter (or one
    /// with standaloneEnabled=false), as Apache decides (isDistributed).
    /// `readFile` reads the myid file (nil: missing).
    public static func resolve(_ server: ServerConfig, readFile: (String) -> String?) throws(ConfigError) -> Mode {
        let file = server.configPath
        var c = QuorumPeerConfig(server: server, myid: 0, view: QuorumMaj(members: []))
        var members: [QuorumServer] = []
        var lines: [Int64: PropertyEntry] = [:]
        for e in server.quorumEntries {
            func fail(_ reason: String) -> ConfigError { e.error(file, reason) }
            func int(_ range: ClosedRange<Int>) throws(ConfigError) -> Int { try e.int(file, range) }
            func bool() throws(ConfigError) -> Bool { try e.bool(file) }
            let key = ServerConfig.canonicalKey(e.key)
            if key.hasPrefix("server.") {
                guard let sid = Int64(key.dropFirst("server.".count)), sid >= 0 else { throw fail("the server id must be a number") }
                guard lines[sid] == nil else { throw fail("server.\(sid) is listed twice (line \(lines[sid]!.line))") }
                do {
                    members.append(try QuorumServer(id: sid, parsing: e.value))
                } catch {
                    throw fail(error.reason)
                }
                lines[sid] = e
                continue
            }
            switch key {
            case "initLimit": c.initLimit = try int(1...Int(Int32.max))
            case "syncLimit": c.syncLimit = try int(1...Int(Int32.max))
            case "peerType":
                guard let t = LearnerType(rawValue: e.value.lowercased()) else {
                    throw fail("Unrecognised peertype: \(e.value)")
                }
                c.peerType = t
            case "electionPortBindRetry": c.electionPortBindRetry = try int(0...Int(Int32.max))
            case "quorumListenOnAllIPs": c.quorumListenOnAllIPs = try bool()
            case "standaloneEnabled": c.standaloneEnabled = try bool()
            case "localSessionsEnabled": c.localSessionsEnabled = try bool()
            case "localSessionsUpgradingEnabled": c.localSessionsUpgradingEnabled = try bool()
            case "reconfigEnabled": c.reconfigEnabled = try bool()
            case "observer.syncEnabled": c.observerSyncEnabled = try bool()
            case "cnxTimeout": c.cnxTimeoutMs = try int(1...Int(Int32.max))
            case "fastleader.minNotificationInterval": c.minNotificationIntervalMs = try int(1...Int(Int32.max))
            case "fastleader.maxNotificationInterval": c.maxNotificationIntervalMs = try int(1...Int(Int32.max))
            case "commitLogCount": c.commitLogCount = max(500, try int(0...Int(Int32.max)))   // Apache raises lower values to 500
            case "snapshotSizeFactor":
                guard let v = Double(e.value) else { throw fail("not a number") }
                c.snapshotSizeFactor = v
            case "electionAlg":
                guard try int(Int(Int32.min)...Int(Int32.max)) == 3 else { throw fail("Invalid electionAlg value. Only 3 is supported.") }
            default:
                // group.N / weight.N: hierarchical quorums.
                throw fail("hierarchical quorums (group.N, weight.N) are not supported")
            }
        }
        let view = QuorumMaj(members: members)
        let distributed = view.votingMembers.count > 1 || (!view.members.isEmpty && !c.standaloneEnabled)
        guard distributed else { return .standalone(server) }
        c.view = view
        try c.checkPortsDistinct(lines: lines)
        let path = server.dataDir.hasSuffix("/") ? server.dataDir + "myid" : server.dataDir + "/myid"
        guard let text = readFile(path) else { throw ConfigError(file: path, reason: "\(path) file is missing") }
        let idText = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let id = Int64(idText) else {
            throw ConfigError(file: path, reason: "serverid \(idText) is not a number")
        }
        // TTL nodes keep their marker in the session id's top byte (EphemeralType).
        if server.extendedTypesEnabled && id > 254 {
            throw ConfigError(file: path, reason: "Invalid server id \(id): with extendedTypesEnabled server ids must be 254 or less")
        }
        guard let mine = view.members[id] else {
            throw ConfigError(file: file, reason: "My id \(id) not in the peer list (myid file \(path))")
        }
        c.myid = id
        // The servers list decides the role (Apache warns and follows it too).
        c.peerType = mine.type
        guard c.initLimit > 0 else { throw ConfigError(file: file, key: "initLimit", reason: "initLimit is not set") }
        guard c.syncLimit > 0 else { throw ConfigError(file: file, key: "syncLimit", reason: "syncLimit is not set") }
        if !server.clientPortSet {
            guard let cp = mine.clientPort else {
                throw ConfigError(file: file, key: "clientPort", reason: "clientPort is not set (in zoo.cfg or on the server.\(id) line)")
            }
            c.server.clientPort = cp
            if c.server.clientPortAddress == nil, let h = mine.clientHost { c.server.clientPortAddress = h }
        }
        return .quorum(c)
    }

    /// Two servers on one host and port could never both bind; say so now
    /// rather than as a bind failure on one of them.
    private func checkPortsDistinct(lines: [Int64: PropertyEntry]) throws(ConfigError) {
        var seen: [String: (Int64, String)] = [:]
        for sid in view.members.keys.sorted() {
            let s = view.members[sid]!
            var uses = [("quorum", s.host, s.quorumPort), ("election", s.host, s.electionPort)]
            if let cp = s.clientPort { uses.append(("client", s.clientHost ?? s.host, cp)) }
            for (what, host, port) in uses {
                let key = "\(host):\(port)"
                if let (other, otherWhat) = seen[key] {
                    let e = lines[sid]!
                    throw ConfigError(file: server.configPath, line: e.line, key: e.key, value: e.value,
                                      reason: "\(what) port \(key) is already the \(otherWhat) port of server.\(other)")
                }
                seen[key] = (sid, what)
            }
        }
    }
}
