// Four-letter words on the client port (the commands of Apache ZooKeeper's
// server/command package), with Apache's whitelist rules and text formats,
// which monitoring scripts parse line by line.
import Foundation
import ZKData
import ZKJute

public enum FourLetterWords {
    public static let all: Set<String> = ["conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk",
                                          "srvr", "srst", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"]
    nonisolated(unsafe) static var traceMask: Int64 = 306
    private static let traceLock = NSLock()

    /// The command whose ASCII spells `value` as a big-endian int, if any.
    static func word(for value: Int32) -> String? {
        let u = UInt32(bitPattern: value)
        let bytes = [UInt8(u >> 24), UInt8((u >> 16) & 0xff), UInt8((u >> 8) & 0xff), UInt8(u & 0xff)]
        guard let s = String(bytes: bytes, encoding: .ascii), all.contains(s) else { return nil }
        return s
    }

    static let notServing = "This ZooKeeper instance is not currently serving requests\n"

    static func run(_ cmd: String, arg: Int64?, zks server: ZooKeeperServer?, factory: NIOServerCnxnFactory) -> String {
        let whitelist = factory.config.fourLetterWordWhitelist
        guard whitelist.contains("*") || whitelist.contains(cmd) else {
            return "\(cmd) is not executed because it is not in the whitelist.\n"
        }
        switch cmd {
        case "ruok": return "imok"
        case "envi": return envi()
        case "gtmk": return String(getTraceMask())
        case "stmk":
            if let arg { setTraceMask(arg) }
            return String(getTraceMask())
        default: break
        }
        // The rest describe the running server (Apache: "not currently serving" without one).
        guard let zks = server, zks.isRunning else { return notServing }
        switch cmd {
        case "isro": return "rw"
        case "srvr": return srvr(zks, factory)
        case "stat": return stat(zks, factory)
        case "cons": return factory.connections().map { consLine($0, long: true) }.joined() + "\n"
        case "crst":
            for c in factory.connections() { c.resetStats() }
            return "Connection stats reset.\n"
        case "srst":
            zks.serverStats.reset()
            return "Server stats reset.\n"
        case "conf": return conf(zks)
        case "mntr": return mntr(zks, factory)
        case "wchs": return wchs(zks)
        case "wchc": return wchc(zks)
        case "wchp": return wchp(zks)
        case "dump": return dump(zks, factory)
        case "dirs":
            return "datadir_size: \(dirSize(zks.config.dataDir))\nlogdir_size: \(dirSize(zks.config.dataLogDir))\n"
        case "hash": return ""
        default: return ""
        }
    }

    static func getTraceMask() -> Int64 { traceLock.withLock { traceMask } }
    static func setTraceMask(_ mask: Int64) { traceLock.withLock { traceMask = mask } }

    static func hex(_ v: Int64) -> String { "0x" + String(UInt64(bitPattern: v), radix: 16) }

    /// Java's Double.toString for the small values we print (0.0, 1.8163).
    static func javaDouble(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e7 ? String(format: "%.1f", d) : "\(d)"
    }

    private static func srvrBody(_ zks: ZooKeeperServer, _ factory: NIOServerCnxnFactory) -> String {
        let s = zks.serverStats
        return "Latency min/avg/max: \(s.minLatency)/\(javaDouble(s.avgLatency))/\(s.maxLatency)\n"
            + "Received: \(s.packetsReceived)\n"
            + "Sent: \(s.packetsSent)\n"
            + "Connections: \(factory.connectionCount)\n"
            + "Outstanding: \(zks.outstandingRequests)\n"
            + "Zxid: \(hex(zks.zkDb.lastProcessedZxid))\n"
            + "Mode: \(zks.serverState)\n"
            + "Node count: \(zks.zkDb.nodeCount)\n"
    }

    static func srvr(_ zks: ZooKeeperServer, _ factory: NIOServerCnxnFactory) -> String {
        "Zookeeper version: \(Version.full)\n" + srvrBody(zks, factory)
    }

    static func stat(_ zks: ZooKeeperServer, _ factory: NIOServerCnxnFactory) -> String {
        "Zookeeper version: \(Version.full)\nClients:\n"
            + factory.connections().map { consLine($0, long: false) }.joined()
            + "\n" + srvrBody(zks, factory)
    }

    static func consLine(_ c: ServerCnxn, long: Bool) -> String {
        let st = c.stats
        let interest = c.isFourLetterWord ? 0 : 1
        var s = " \(c.remoteDescription)[\(interest)](queued=\(c.outstanding),recved=\(st.received),sent=\(st.sent)"
        if long {
            let sid = c.sessionId
            if sid != 0 {
                s += ",sid=\(hex(sid)),lop=\(st.lastOp),est=\(c.established),to=\(c.sessionTimeout)"
                if st.lastCxid >= 0 { s += ",lcxid=\(hex(Int64(st.lastCxid)))" }
                let avg = st.count == 0 ? 0 : st.totalLatency / st.count
                s += ",lzxid=\(hex(st.lastZxid)),lresp=\(st.lastResponseTime),llat=\(st.lastLatency)"
                s += ",minlat=\(st.minLatency == Int64.max ? 0 : st.minLatency),avglat=\(avg),maxlat=\(st.maxLatency)"
            }
        }
        return s + ")\n"
    }

    static func conf(_ zks: ZooKeeperServer) -> String {
        let c = zks.config
        let dataDir = (c.dataDir as NSString).appendingPathComponent("version-2")
        let logDir = (c.dataLogDir as NSString).appendingPathComponent("version-2")
        return """
        clientPort=\(c.clientPort)
        secureClientPort=-1
        dataDir=\(dataDir)
        dataDirSize=\(dirSize(c.dataDir))
        dataLogDir=\(logDir)
        dataLogSize=\(dirSize(c.dataLogDir))
        tickTime=\(c.tickTime)
        maxClientCnxns=\(c.maxClientCnxns)
        minSessionTimeout=\(c.effectiveMinSessionTimeout)
        maxSessionTimeout=\(c.effectiveMaxSessionTimeout)
        clientPortListenBacklog=-1
        serverId=0

        """
    }

    static func envi() -> String {
        "Environment:\n" + environment().map { "\($0.0)=\($0.1)\n" }.joined()
    }

    /// Apache's Environment list, with what a native server has in place of the JVM's.
    static func environment() -> [(String, String)] {
        let pi = ProcessInfo.processInfo
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let (free, total) = memoryMB()
        return [
            ("zookeeper.version", Version.full),
            ("host.name", pi.hostName),
            ("java.version", "none (zkswiftd \(Version.zkswiftd), native)"),
            ("java.vendor", "zkswiftd"),
            ("java.home", ""),
            ("java.class.path", ""),
            ("java.library.path", ""),
            ("java.io.tmpdir", NSTemporaryDirectory()),
            ("java.compiler", "<NA>"),
            ("os.name", "Linux"),
            ("os.arch", machine == "x86_64" ? "amd64" : machine),
            ("os.version", release),
            ("user.name", pi.environment["USER"] ?? NSUserName()),
            ("user.home", NSHomeDirectory()),
            ("user.dir", FileManager.default.currentDirectoryPath),
            ("os.memory.free", "\(free)MB"),
            ("os.memory.max", "\(total)MB"),
            ("os.memory.total", "\(total)MB"),
        ]
    }

    static func memoryMB() -> (free: Int, total: Int) {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return (0, 0) }
        var vals: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if parts.count >= 2, let v = Int(parts[1]) { vals[String(parts[0])] = v / 1024 }
        }
        return (vals["MemAvailable"] ?? 0, vals["MemTotal"] ?? 0)
    }

    static func mntr(_ zks: ZooKeeperServer, _ factory: NIOServerCnxnFactory) -> String {
        monitorValues(zks, factory).map { k, v in
            switch v {
            case .string(let t): "\(k)\t\(t)\n"
            default: "\(k)\t\(v.rendered())\n"
            }
        }.joined()
    }

    /// mntr's keys and values; the AdminServer's monitor answers the same
    /// without the zk_ prefix, with numbers as numbers.
    static func monitorValues(_ zks: ZooKeeperServer, _ factory: NIOServerCnxnFactory) -> [(String, AdminJSON)] {
        let s = zks.serverStats
        let (znodes, watches, ephemerals, dataSize, mismatches) = zks.zkDb.withTree {
            ($0.nodeCount, $0.dataWatches.watchCount + $0.childWatches.watchCount, $0.ephemeralCount, $0.approximateDataSize,
             $0.digestMismatches)
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var lim = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        let sizes = s.responseSizes
        let values: [(String, AdminJSON)] = [
            ("zk_version", .string(Version.full)),
            ("zk_server_state", .string(zks.serverState)),
            ("zk_avg_latency", .double(s.avgLatency)),
            ("zk_max_latency", .int(s.maxLatency)),
            ("zk_min_latency", .int(s.minLatency)),
            ("zk_packets_received", .int(s.packetsReceived)),
            ("zk_packets_sent", .int(s.packetsSent)),
            ("zk_num_alive_connections", .int(factory.connectionCount)),
            ("zk_outstanding_requests", .int(zks.outstandingRequests)),
            ("zk_znode_count", .int(znodes)),
            ("zk_watch_count", .int(watches)),
            ("zk_ephemerals_count", .int(ephemerals)),
            ("zk_approximate_data_size", .int(Int64(dataSize))),
            ("zk_open_file_descriptor_count", .int(fds)),
            ("zk_max_file_descriptor_count", .int(Int64(lim.rlim_cur))),
            ("zk_uptime", .int(Clock.monotonicMillis() - zks.startTime)),
            ("zk_global_sessions", .int(zks.sessionTracker.count)),
            ("zk_local_sessions", .int(0)),
            ("zk_connection_drop_probability", .double(0)),
            ("zk_outstanding_changes_queued", .int(zks.outstandingChanges.count)),
            ("zk_last_client_response_size", .int(sizes.last)),
            ("zk_min_client_response_size", .int(sizes.min)),
            ("zk_max_client_response_size", .int(sizes.max)),
            ("zk_digest_mismatches_count", .int(mismatches)),
        ]
        let extra = zks.monitorLines().map { k, v in (k, Int64(v).map(AdminJSON.int) ?? .string(v)) }
        return values + extra
    }

    static func wchs(_ zks: ZooKeeperServer) -> String {
        let (cnxns, paths, total) = zks.zkDb.withTree { ($0.dataWatches.watcherCount, $0.dataWatches.pathCount, $0.dataWatches.watchCount) }
        return "\(cnxns) connections watching \(paths) paths\nTotal watches:\(total)\n"
    }

    static func wchc(_ zks: ZooKeeperServer) -> String {
        let byWatcher = zks.zkDb.withTree { $0.dataWatches.pathsByWatcher() }
        var out = ""
        for (w, paths) in byWatcher {
            let sid = (w as? ServerCnxn)?.sessionId ?? 0
            out += hex(sid) + "\n" + paths.sorted().map { "\t\($0)\n" }.joined()
        }
        return out + "\n"
    }

    static func wchp(_ zks: ZooKeeperServer) -> String {
        let byPath = zks.zkDb.withTree { $0.dataWatches.watchersByPath() }
        var out = ""
        for (path, ws) in byPath.sorted(by: { $0.0 < $1.0 }) {
            out += path + "\n" + ws.map { "\t\(hex(($0 as? ServerCnxn)?.sessionId ?? 0))\n" }.joined()
        }
        return out + "\n"
    }

    /// Java's Date.toString, e.g. `Sun Nov 22 04:07:50 UTC 2026`.
    static func javaDate(monotonic t: Int64) -> String {
        let wall = Clock.wallMillis() - Clock.monotonicMillis() + t
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone.current
        f.dateFormat = "EEE MMM dd HH:mm:ss zzz yyyy"
        return f.string(from: Date(timeIntervalSince1970: Double(wall) / 1000))
    }

    static func dump(_ zks: ZooKeeperServer, _ factory: NIOServerCnxnFactory) -> String {
        let buckets = zks.sessionTracker.expiryBuckets()
        var out = "SessionTracker dump:\nSession Sets (\(buckets.count))/(\(zks.sessionTracker.count)):\n"
        for b in buckets {
            out += "\(b.sessions.count) expire at \(javaDate(monotonic: b.time)):\n"
            out += b.sessions.map { "\t\(hex($0))\n" }.joined()
        }
        let ephemerals = zks.zkDb.withTree { $0.ephemerals }
        out += "ephemeral nodes dump:\nSessions with Ephemerals (\(ephemerals.count)):\n"
        for (sid, paths) in ephemerals.sorted(by: { $0.key < $1.key }) {
            out += "\(hex(sid)):\n" + paths.sorted().map { "\t\($0)\n" }.joined()
        }
        // Apache's connection expiry queue: buckets of sessionlessCnxnTimeout,
        // each connection due its session timeout after its last packet.
        let width = Int64(zks.config.sessionlessCnxnTimeoutMs)
        var byExpiry: [Int64: [ServerCnxn]] = [:]
        let cnxns = factory.connections()
        for c in cnxns {
            let due = ((c.stats.lastActivity + Int64(c.sessionTimeout)) / width + 1) * width
            byExpiry[due, default: []].append(c)
        }
        out += "Connections dump:\nConnections Sets (\(byExpiry.count))/(\(cnxns.count)):\n"
        for (t, list) in byExpiry.sorted(by: { $0.key < $1.key }) {
            out += "\(list.count) expire at \(javaDate(monotonic: t)):\n"
            out += list.map { "\tip: \($0.remoteDescription) sessionId: \(hex($0.sessionId))\n" }.joined()
        }
        return out
    }

    static func dirSize(_ dir: String) -> Int64 {
        let d = (dir as NSString).appendingPathComponent("version-2")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: d) else { return 0 }
        var total: Int64 = 0
        for n in names {
            if let a = try? FileManager.default.attributesOfItem(atPath: (d as NSString).appendingPathComponent(n)),
               let s = a[.size] as? NSNumber { total += s.int64Value }
        }
        return total
    }
}
