// The AdminServer's commands (Apache's server/admin Commands): each has a
// primary name and aliases, and answers a JSON object that ends with
// "command" (the name asked for) and "error" (null, or why not). Those that
// describe a running server answer "not currently serving" without one.
import Foundation
import ZKData
import ZKJute

/// What an ensemble member adds to the answers (Leader- and
/// LearnerZooKeeperServer fill it in; nil on a standalone server).
public struct QuorumAdminInfo: Sendable {
    public struct Member: Sendable {
        public var sid: Int64
        public var quorumAddress: String
        public var electionAddress: String
        public var clientAddress: String
        public var observer: Bool
        public init(sid: Int64, quorumAddress: String, electionAddress: String, clientAddress: String, observer: Bool) {
            self.sid = sid; self.quorumAddress = quorumAddress; self.electionAddress = electionAddress
            self.clientAddress = clientAddress; self.observer = observer
        }
    }
    public var myid: Int64
    public var isLeader: Bool
    public var leaderId: Int64
    public var leaderHost: String
    public var members: [Member]
    /// Synced observers as the leader sees them (sid, remote address).
    public var observers: [(sid: Int64, address: String)]
    public init(myid: Int64, isLeader: Bool, leaderId: Int64, leaderHost: String, members: [Member],
                observers: [(sid: Int64, address: String)]) {
        self.myid = myid; self.isLeader = isLeader; self.leaderId = leaderId; self.leaderHost = leaderHost
        self.members = members; self.observers = observers
    }
    public var me: Member? { members.first { $0.sid == myid } }
}

public enum AdminCommands {
    public typealias Fields = [(String, AdminJSON)]

    struct Command: Sendable {
        var names: [String]
        var serverRequired: Bool
        var run: @Sendable (_ zks: ZooKeeperServer?, _ factory: NIOServerCnxnFactory, _ args: [String: String]) -> Fields
        var primary: String { names[0] }
    }

    /// Primary names, sorted, as /commands lists them.
    public static var primaryNames: [String] { commands.map(\.primary).sorted() }

    /// Runs `name` (a primary name or an alias) and returns the whole answer.
    public static func run(_ name: String, zks server: ZooKeeperServer?, factory: NIOServerCnxnFactory,
                           args: [String: String] = [:]) -> AdminJSON {
        guard let cmd = commands.first(where: { $0.names.contains(name) }) else {
            return .object([("command", .string(name)), ("error", .string("Unknown command: \(name)"))])
        }
        let serving = server.flatMap { $0.isRunning ? $0 : nil }
        if cmd.serverRequired && serving == nil {
            return .object([("command", .string(cmd.primary)),
                            ("error", .string("This ZooKeeper instance is not currently serving requests"))])
        }
        var fields = cmd.run(serving, factory, args)
        // A command may set its own error (and Apache then puts it first).
        if let i = fields.firstIndex(where: { $0.0 == "error" }) {
            let e = fields.remove(at: i)
            return .object([e] + fields + [("command", .string(cmd.primary))])
        }
        return .object(fields + [("command", .string(cmd.primary)), ("error", .null)])
    }

    // MARK: the table

    static let commands: [Command] = [
        Command(names: ["connection_stat_reset", "crst"], serverRequired: true) { _, f, _ in
            for c in f.connections() { c.resetStats() }
            return []
        },
        Command(names: ["configuration", "conf", "config"], serverRequired: true) { zks, _, _ in configuration(zks!) },
        Command(names: ["connections", "cons"], serverRequired: true) { _, f, _ in
            [("connections", .array(f.connections().map { .object(connectionInfo($0, brief: false)) })),
             ("secure_connections", .array([]))]
        },
        Command(names: ["hash"], serverRequired: true) { _, _, _ in [("digests", .array([]))] },
        Command(names: ["dirs"], serverRequired: true) { zks, _, _ in
            [("datadir_size", .int(FourLetterWords.dirSize(zks!.config.dataDir))),
             ("logdir_size", .int(FourLetterWords.dirSize(zks!.config.dataLogDir)))]
        },
        Command(names: ["dump"], serverRequired: true) { zks, _, _ in dump(zks!) },
        Command(names: ["environment", "env", "envi"], serverRequired: false) { _, _, _ in
            FourLetterWords.environment().map { ($0.0, .string($0.1)) }
        },
        Command(names: ["get_trace_mask", "gtmk"], serverRequired: false) { _, _, _ in
            [("tracemask", .int(FourLetterWords.getTraceMask()))]
        },
        Command(names: ["initial_configuration", "icfg"], serverRequired: true) { zks, _, _ in
            [("initial_configuration", .string(zks!.config.initialText))]
        },
        Command(names: ["is_read_only", "isro"], serverRequired: true) { _, _, _ in [("read_only", .bool(false))] },
        Command(names: ["last_snapshot", "lsnp"], serverRequired: true) { zks, _, _ in
            let s = zks!.zkDb.lastSnapshot
            return [("zxid", .string(String(UInt64(bitPattern: s?.zxid ?? -1), radix: 16))),
                    ("timestamp", .int(s?.timestamp ?? -1))]
        },
        Command(names: ["leader", "lead"], serverRequired: true) { zks, _, _ in
            guard let q = zks!.quorumInfo else { return [("error", .string("server is not initialized"))] }
            return [("is_leader", .bool(q.isLeader)), ("leader_id", .int(q.leaderId)), ("leader_ip", .string(q.leaderHost))]
        },
        Command(names: ["monitor", "mntr"], serverRequired: false) { zks, f, _ in
            guard let zks else { return [("error", .string("This ZooKeeper instance is not currently serving requests"))] }
            return FourLetterWords.monitorValues(zks, f).map { k, v in (String(k.dropFirst(3)), v) }
        },
        Command(names: ["observer_connection_stat_reset", "orst"], serverRequired: true) { _, _, _ in [] },
        Command(names: ["observers", "obsr"], serverRequired: true) { zks, _, _ in
            let obs = zks!.quorumInfo?.observers ?? []
            return [("synced_observers", .int(obs.count)),
                    ("observers", .array(obs.map { .object([("remote_socket_address", .string($0.address)), ("sid", .int($0.sid))]) }))]
        },
        Command(names: ["ruok"], serverRequired: true) { _, _, _ in [] },
        Command(names: ["set_trace_mask", "stmk"], serverRequired: false) { _, _, args in
            guard let v = args["traceMask"] else { return [("error", .string("setTraceMask requires long traceMask argument"))] }
            guard let mask = Int64(v) else {
                return [("error", .string("setTraceMask requires long traceMask argument, got \(v)"))]
            }
            FourLetterWords.setTraceMask(mask)
            return [("tracemask", .int(mask))]
        },
        Command(names: ["server_stats", "srvr"], serverRequired: true) { zks, f, _ in serverStats(zks!, f) },
        Command(names: ["stats", "stat"], serverRequired: true) { zks, f, _ in
            serverStats(zks!, f) + [("connections", .array(f.connections().map { .object(connectionInfo($0, brief: true)) })),
                                    ("secure_connections", .array([]))]
        },
        Command(names: ["stat_reset", "srst"], serverRequired: true) { zks, _, _ in
            zks!.serverStats.reset()
            return []
        },
        Command(names: ["system_properties", "sysp"], serverRequired: false) { _, _, _ in
            FourLetterWords.environment().sorted { $0.0 < $1.0 }.map { ($0.0, .string($0.1)) }
        },
        Command(names: ["voting_view"], serverRequired: true) { zks, _, _ in
            let voters = (zks!.quorumInfo?.members ?? []).filter { !$0.observer }.sorted { $0.sid < $1.sid }
            return [("current_config", .object(voters.map { m in
                (String(m.sid), .object([("server_addresses", .array([.string(m.quorumAddress)])),
                                         ("election_addresses", .array([.string(m.electionAddress)])),
                                         ("client_address", .string(m.clientAddress)),
                                         ("learner_type", .string("participant"))]))
            }))]
        },
        Command(names: ["watches", "wchc"], serverRequired: true) { zks, _, _ in
            let byWatcher = zks!.zkDb.withTree { $0.dataWatches.pathsByWatcher() }
            return [("session_id_to_watched_paths", .object(byWatcher.map { w, paths in
                (String((w as? ServerCnxn)?.sessionId ?? 0), .array(paths.sorted().map(AdminJSON.string)))
            }))]
        },
        Command(names: ["watches_by_path", "wchp"], serverRequired: true) { zks, _, _ in
            let byPath = zks!.zkDb.withTree { $0.dataWatches.watchersByPath() }
            return [("path_to_session_ids", .object(byPath.sorted { $0.0 < $1.0 }.map { path, ws in
                (path, .array(ws.map { .int(($0 as? ServerCnxn)?.sessionId ?? 0) }))
            }))]
        },
        Command(names: ["watch_summary", "wchs"], serverRequired: true) { zks, _, _ in
            let (cnxns, paths, total) = zks!.zkDb.withTree {
                ($0.dataWatches.watcherCount, $0.dataWatches.pathCount, $0.dataWatches.watchCount)
            }
            return [("num_connections", .int(cnxns)), ("num_paths", .int(paths)), ("num_total_watches", .int(total))]
        },
        Command(names: ["zabstate"], serverRequired: false) { zks, _, _ in zabState(zks) },
    ]

    // MARK: answers

    static func configuration(_ zks: ZooKeeperServer) -> Fields {
        let c = zks.config
        return [("client_port", .int(c.clientPort)),
                ("data_dir", .string((c.dataDir as NSString).appendingPathComponent("version-2"))),
                ("data_log_dir", .string((c.dataLogDir as NSString).appendingPathComponent("version-2"))),
                ("tick_time", .int(c.tickTime)),
                ("max_client_cnxns", .int(c.maxClientCnxns)),
                ("min_session_timeout", .int(c.effectiveMinSessionTimeout)),
                ("max_session_timeout", .int(c.effectiveMaxSessionTimeout)),
                ("server_id", .int(zks.quorumInfo?.myid ?? 0)),
                ("client_port_listen_backlog", .int(-1))]
    }

    static func connectionInfo(_ c: ServerCnxn, brief: Bool) -> Fields {
        let st = c.stats
        var f: Fields = [("remote_socket_address", .string(String(c.remoteDescription.dropFirst()))),
                         ("interest_ops", .int(c.isFourLetterWord ? 0 : 1)),
                         ("outstanding_requests", .int(c.outstanding)),
                         ("packets_received", .int(st.received)),
                         ("packets_sent", .int(st.sent))]
        guard !brief, c.sessionId != 0 else { return f }
        f += [("session_id", .int(c.sessionId)),
              ("last_operation", .string(st.lastOp)),
              ("established", .int(c.established)),
              ("session_timeout", .int(Int(c.sessionTimeout))),
              ("last_cxid", .int(Int64(st.lastCxid))),
              ("last_zxid", .int(st.lastZxid)),
              ("last_response_time", .int(st.lastResponseTime)),
              ("last_latency", .int(st.lastLatency)),
              ("min_latency", .int(st.minLatency == Int64.max ? 0 : st.minLatency)),
              ("avg_latency", .int(st.count == 0 ? 0 : st.totalLatency / st.count)),
              ("max_latency", .int(st.maxLatency))]
        return f
    }

    static func dump(_ zks: ZooKeeperServer) -> Fields {
        let buckets = zks.sessionTracker.expiryBuckets()
        let ephemerals = zks.zkDb.withTree { $0.ephemerals }
        return [("expiry_time_to_session_ids", .object(buckets.map { (String($0.time), .array($0.sessions.map(AdminJSON.int))) })),
                ("session_id_to_ephemeral_paths", .object(ephemerals.sorted { $0.key < $1.key }.map {
                    (String($0.key), .array($0.value.sorted().map(AdminJSON.string)))
                }))]
    }

    static func bufferStats(_ b: BufferStats) -> AdminJSON {
        .object([("last_buffer_size", .int(b.last)), ("min_buffer_size", .int(b.min)), ("max_buffer_size", .int(b.max))])
    }

    static func serverStats(_ zks: ZooKeeperServer, _ f: NIOServerCnxnFactory) -> Fields {
        let s = zks.serverStats
        let stats: Fields = [
            ("packets_sent", .int(s.packetsSent)),
            ("packets_received", .int(s.packetsReceived)),
            ("fsync_threshold_exceed_count", .int(0)),
            ("client_response_stats", bufferStats(s.responseSizes)),
            ("data_dir_size", .int(FourLetterWords.dirSize(zks.config.dataDir))),
            ("log_dir_size", .int(FourLetterWords.dirSize(zks.config.dataLogDir))),
            ("provider_null", .bool(false)),
            ("server_state", .string(zks.serverState)),
            ("last_processed_zxid", .int(zks.zkDb.lastProcessedZxid)),
            ("outstanding_requests", .int(zks.outstandingRequests)),
            ("avg_latency", .double(s.avgLatency)),
            ("max_latency", .int(s.maxLatency)),
            ("min_latency", .int(s.minLatency)),
            ("num_alive_client_connections", .int(f.connectionCount)),
            ("auth_failed_count", .int(0)),
            ("non_mtlsremote_conn_count", .int(0)),
            ("non_mtlslocal_conn_count", .int(0)),
            ("uptime", .int(Clock.monotonicMillis() - zks.startTime)),
        ]
        var out: Fields = [("version", .string(Version.full)), ("read_only", .bool(false)),
                           ("server_stats", .object(stats)), ("client_response", bufferStats(s.responseSizes))]
        if let p = zks.proposalSizes { out.append(("proposal_stats", bufferStats(p))) }
        out.append(("node_count", .int(zks.zkDb.nodeCount)))
        return out
    }

    /// Apache's MultipleAddresses as Jackson writes it, for one address.
    static func addressObject(_ hostPort: String) -> AdminJSON {
        let port = hostPort.split(separator: ":").last.map(String.init) ?? ""
        let host = String(hostPort.dropLast(port.count + 1))
        return .object([("empty", .bool(false)),
                        ("all_addresses", .array([.string(hostPort)])),
                        ("all_reachable_addresses", .array([.string(hostPort)])),
                        ("one", .string(hostPort)),
                        ("reachable_address", .string(hostPort)),
                        ("wildcard_addresses", .array([.string("0.0.0.0:\(port)")])),
                        ("all_ports", .array([.int(Int64(port) ?? 0)])),
                        ("all_host_strings", .array([.string(host)])),
                        ("all_reachable_addresses_or_all", .array([.string(hostPort)])),
                        ("reachable_or_one", .string(hostPort))])
    }

    static func zabState(_ zks: ZooKeeperServer?) -> Fields {
        guard let zks, let q = zks.quorumInfo, let me = q.me else { return [("voting", .bool(false)), ("zabstate", .string(""))] }
        let zxid = zks.zkDb.lastProcessedZxid
        return [("myid", .int(q.myid)), ("is_leader", .bool(q.isLeader)),
                ("quorum_address", addressObject(me.quorumAddress)),
                ("election_address", addressObject(me.electionAddress)),
                ("client_address", .string(me.clientAddress)),
                ("voting", .bool(!me.observer)),
                ("last_zxid", .string(FourLetterWords.hex(zxid))),
                ("zab_epoch", .int(Zxid.epoch(zxid))),
                ("zab_counter", .int(Zxid.counter(zxid))),
                ("zabstate", .string("broadcast"))]
    }
}
