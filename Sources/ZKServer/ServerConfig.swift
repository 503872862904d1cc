// zoo.cfg parsed once into a value that the server is built from. Keys that
// Apache reads as JVM system properties are accepted with or without their
// `zookeeper.` prefix; keys we do not implement yet are reported, not fatal.
import Foundation
import Logging
import ZKPersistence

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var key: String?
    public var value: String?
    public var reason: String

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let key, line != nil || value != nil { s += ": \(key)=\(value ?? "")" }
        return s + ": " + reason
    }

    public init(file: String, line: Int? = nil, key: String? = nil, value: String? = nil, reason: String) {
        self.file = file; self.line = line; self.key = key; self.value = value; self.reason = reason
    }
}

/// Reading one zoo.cfg value, with errors naming the file, line, key and value.
extension PropertyEntry {
    public func error(_ file: String, _ reason: String) -> ConfigError {
        ConfigError(file: file, line: line, key: key, value: value, reason: reason)
    }

    public func int(_ file: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let v = Int(value) else { throw error(file, "not an integer") }
        guard range.contains(v) else { throw error(file, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return v
    }

    public func bool(_ file: String) throws(ConfigError) -> Bool {
        switch value.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error(file, "must be true or false")
        }
    }
}

public struct ServerConfig: Sendable {
    public var configPath: String = ""
    /// The file as read at start (the AdminServer's initial_configuration).
    public var initialText: String = ""
    public var tickTime: Int = 2000
    public var dataDir: String = ""
    public var dataLogDir: String = ""
    public var clientPort: Int = 2181
    /// Whether zoo.cfg set clientPort (an ensemble member may take it from its server.N line).
    public var clientPortSet = false
    public var clientPortAddress: String? = nil
    public var maxClientCnxns: Int = 60
    public var minSessionTimeout: Int = -1
    public var maxSessionTimeout: Int = -1
    public var globalOutstandingLimit: Int = 1000
    public var juteMaxBuffer: Int = 0xfffff
    public var fourLetterWordWhitelist: Set<String> = ["srvr"]
    public var superDigest: String? = nil
    public var extendedTypesEnabled: Bool = false
    public var containerCheckIntervalMs: Int = 60000
    public var containerMaxPerMinute: Int = 10000
    public var containerMaxNeverUsedIntervalMs: Int = 0
    public var readOnlyModeEnabled: Bool = false
    /// zkswiftd's own key (Apache ignores it): the daemon's log level, unless
    /// ZKSWIFTD_LOG_LEVEL overrides it.
    public var logLevel: Logger.Level?
    /// The HTTP AdminServer: on by default, as in Apache.
    public var adminEnableServer = true
    public var adminServerAddress = "0.0.0.0"
    public var adminServerPort = 8080
    public var adminCommandURL = "/commands"
    /// metricsProvider.className naming Apache's Prometheus provider turns on
    /// the /metrics endpoint; any other class name is left unimplemented.
    public var metricsProviderClassName: String?
    public var metricsHTTPHost = "0.0.0.0"
    public var metricsHTTPPort = 7000
    public static let prometheusProviderClass = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
    public var prometheusEnabled: Bool { metricsProviderClassName == Self.prometheusProviderClass }
    public var sessionlessCnxnTimeoutMs: Int = 10000
    public var closeSessionTxnEnabled: Bool = true
    /// zookeeper.digest.enabled: log and snapshot the tree digest.
    public var digestEnabled: Bool = true
    public var skipACL: Bool = false
    public var snapCount: Int = 100_000
    /// Log preallocation step in bytes (preAllocSize is given in KiB).
    public var preAllocSizeBytes: Int = 64 * 1024 * 1024
    public var forceSync: Bool = true
    public var fsyncWarningThresholdMs: Int = 1000
    /// snapshot.compression.method: how new snapshots are written; any kind is read.
    public var snapshotCompression: SnapshotCompression.Method = .none
    /// Snapshots autopurge keeps (at least 3) and its period; 0 hours: off.
    public var autopurgeSnapRetainCount: Int = 3
    public var autopurgeIntervalHours: Int = 0
    /// Keys accepted but without effect yet, with their lines, for one log line each.
    public var ignored: [PropertyEntry] = []
    /// server.N lines and the other ensemble keys, left to the quorum configuration.
    public var quorumEntries: [PropertyEntry] = []

    /// Ensemble keys (QuorumPeerConfig's), besides server.N, group.N and weight.N.
    public static let quorumKeys: Set<String> = [
        "initLimit", "syncLimit", "peerType", "electionPortBindRetry", "quorumListenOnAllIPs",
        "standaloneEnabled", "localSessionsEnabled", "localSessionsUpgradingEnabled", "reconfigEnabled",
        "observer.syncEnabled", "cnxTimeout", "electionAlg", "fastleader.minNotificationInterval",
        "fastleader.maxNotificationInterval", "commitLogCount", "snapshotSizeFactor",
    ]

    public init() {}

    public var effectiveMinSessionTimeout: Int { minSessionTimeout == -1 ? tickTime * 2 : minSessionTimeout }
    public var effectiveMaxSessionTimeout: Int { maxSessionTimeout == -1 ? tickTime * 20 : maxSessionTimeout }

    public static func load(path: String) throws(ConfigError) -> ServerConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, reason: "cannot read the configuration file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, reason: "the configuration file is not UTF-8 text")
        }
        var c = try parse(text, file: path)
        c.configPath = path
        c.initialText = text
        return c
    }

    /// Keys are matched without a leading `zookeeper.`, as Apache reads both forms.
    public static func canonicalKey(_ key: String) -> String {
        key.hasPrefix("zookeeper.") ? String(key.dropFirst("zookeeper.".count)) : key
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> ServerConfig {
        var c = ServerConfig()
        var sawDataDir = false, sawClientPort = false
        for e in JavaProperties.parse(text) {
            func fail(_ reason: String) -> ConfigError { e.error(file, reason) }
            func int(_ range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> Int { try e.int(file, range) }
            func bool() throws(ConfigError) -> Bool { try e.bool(file) }
            switch canonicalKey(e.key) {
            case "tickTime": c.tickTime = try int(1...Int(Int32.max))
            case "dataDir":
                guard !e.value.isEmpty else { throw fail("must name a directory") }
                c.dataDir = e.value; sawDataDir = true
            case "dataLogDir":
                guard !e.value.isEmpty else { throw fail("must name a directory") }
                c.dataLogDir = e.value
            case "clientPort": c.clientPort = try int(0...65535); sawClientPort = true; c.clientPortSet = true
            case "clientPortAddress":
                guard !e.value.isEmpty else { throw fail("must be an address") }
                c.clientPortAddress = e.value
            case "maxClientCnxns": c.maxClientCnxns = try int(0...Int(Int32.max))
            case "minSessionTimeout": c.minSessionTimeout = try int(-1...Int(Int32.max))
            case "maxSessionTimeout": c.maxSessionTimeout = try int(-1...Int(Int32.max))
            case "globalOutstandingLimit": c.globalOutstandingLimit = try int(1...Int(Int32.max))
            case "jute.maxbuffer": c.juteMaxBuffer = try int(1...Int(Int32.max))
            case "4lw.commands.whitelist":
                c.fourLetterWordWhitelist = Set(e.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            case "DigestAuthenticationProvider.superDigest":
                guard e.value.split(separator: ":", omittingEmptySubsequences: false).count == 2 else {
                    throw fail("must be user:base64-sha1-digest")
                }
                c.superDigest = e.value
            case "extendedTypesEnabled": c.extendedTypesEnabled = try bool()
            case "znode.container.checkIntervalMs": c.containerCheckIntervalMs = try int(1...Int(Int32.max))
            case "znode.container.maxPerMinute": c.containerMaxPerMinute = try int(1...Int(Int32.max))
            case "znode.container.maxNeverUsedIntervalMs": c.containerMaxNeverUsedIntervalMs = try int(0...Int(Int64.max))
            case "readonlymode.enabled": c.readOnlyModeEnabled = try bool()
            case "nio.sessionlessCnxnTimeout": c.sessionlessCnxnTimeoutMs = try int(1...Int(Int32.max))
            case "closeSessionTxn.enabled": c.closeSessionTxnEnabled = try bool()
            case "digest.enabled": c.digestEnabled = try bool()
            case "skipACL": c.skipACL = try bool()
            case "snapCount": c.snapCount = try int(2...Int(Int32.max))
            case "preAllocSize": c.preAllocSizeBytes = try int(4...(1 << 30)) * 1024
            case "forceSync": c.forceSync = try bool()
            case "fsync.warningthresholdms": c.fsyncWarningThresholdMs = try int(0...Int(Int32.max))
            // Apache quietly falls back to plain snapshots for a name it does
            // not know; a misspelt method should not go unnoticed.
            case "snapshot.compression.method":
                guard let m = SnapshotCompression.Method(configValue: e.value) else { throw fail("must be empty, gz or snappy") }
                c.snapshotCompression = m
            // Apache takes any integer here, then lifts a count below 3 to 3
            // (with a WARN, logged at start-up) and treats an interval <= 0 as off.
            case "autopurge.snapRetainCount": c.autopurgeSnapRetainCount = try int(Int(Int32.min)...Int(Int32.max))
            case "autopurge.purgeInterval": c.autopurgeIntervalHours = try int(Int(Int32.min)...Int(Int32.max))
            case "admin.enableServer": c.adminEnableServer = try bool()
            case "admin.serverAddress": c.adminServerAddress = e.value
            case "admin.serverPort": c.adminServerPort = try int(0...65535)
            case "admin.commandURL":
                guard e.value.hasPrefix("/") else { throw fail("must start with /") }
                c.adminCommandURL = e.value.count > 1 && e.value.hasSuffix("/") ? String(e.value.dropLast()) : e.value
            case "metricsProvider.className": c.metricsProviderClassName = e.value
            case "metricsProvider.httpHost": c.metricsHTTPHost = e.value
            case "metricsProvider.httpPort": c.metricsHTTPPort = try int(0...65535)
            case "metricsProvider.exportJvmInfo": _ = try bool()   // a native server has no JVM to describe
            case "zkswiftd.logLevel":
                guard let l = Logger.Level(rawValue: e.value.lowercased()) else {
                    throw fail("must be one of trace, debug, info, notice, warning, error, critical")
                }
                c.logLevel = l
            case let k where quorumKeys.contains(k) || k.hasPrefix("server.") || k.hasPrefix("group.") || k.hasPrefix("weight."):
                c.quorumEntries.append(e)
            default:
                c.ignored.append(e)
            }
        }
        guard sawDataDir else { throw ConfigError(file: file, key: "dataDir", reason: "dataDir is not set") }
        // An ensemble member may name its client port on its server.N line instead.
        let hasServers = c.quorumEntries.contains { canonicalKey($0.key).hasPrefix("server.") }
        guard sawClientPort || hasServers else { throw ConfigError(file: file, key: "clientPort", reason: "clientPort is not set") }
        if c.dataLogDir.isEmpty { c.dataLogDir = c.dataDir }
        if c.readOnlyModeEnabled { c.fourLetterWordWhitelist.insert("isro") }
        c.fourLetterWordWhitelist.insert("srvr")
        if c.effectiveMinSessionTimeout > c.effectiveMaxSessionTimeout {
            throw ConfigError(file: file, key: "minSessionTimeout", value: String(c.effectiveMinSessionTimeout),
                              reason: "minSessionTimeout must not be larger than maxSessionTimeout (\(c.effectiveMaxSessionTimeout))")
        }
        return c
    }
}
