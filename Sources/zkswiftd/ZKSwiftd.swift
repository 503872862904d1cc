// The daemon's entry point: `zkswiftd PATH/zoo.cfg`. Reads the configuration
// once, recovers the data directory, starts the standalone server or the
// QuorumPeer, reports to systemd (ServiceNotifier), and stops gracefully on
// SIGTERM/SIGINT within a bound. A bad configuration is one line on stderr
// and exit status 2; data it cannot recover, one line and status 1.
import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import ZKPersistence
import ZKQuorum
import ZKServer

@main
struct ZKSwiftd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zkswiftd",
        abstract: "A ZooKeeper 3.8 compatible server.",
        discussion: """
        Reads an Apache ZooKeeper style zoo.cfg and serves ZooKeeper clients on its clientPort: \
        standalone, or as a member of the ensemble its server.N lines name.

        Where things are, as the Debian package installs them:
          /etc/zkswiftd/zoo.cfg          the configuration (the default CONFIG-FILE)
          /var/lib/zkswiftd              dataDir: snapshots, transaction log, myid
          zkswiftd.service               the systemd unit (Type=notify: ready once clients are served)
          journalctl -u zkswiftd         the log

        The log goes to stderr, with journal priority prefixes under systemd. Its level \
        (trace, debug, info, notice, warning, error, critical; default info) comes from \
        ZKSWIFTD_LOG_LEVEL, else from the zoo.cfg key zkswiftd.logLevel.
        """,
        version: Version.full)

    @Argument(help: "Path of the zoo.cfg configuration file.")
    var configFile: String = "/etc/zkswiftd/zoo.cfg"

    func run() throws {
        let mode = try Self.readConfig(configFile)
        let config: ServerConfig
        switch mode {
        case .standalone(let c): config = c
        case .quorum(let q): config = q.server
        }
        Self.bootstrapLogging(configLevel: config.logLevel)
        let logger = Logger(label: "zkswiftd")
        for e in config.ignored {
            logger.notice("\(config.configPath):\(e.line): \(e.key) is not implemented by zkswiftd yet; ignored")
        }
        let host = config.clientPortAddress ?? "0.0.0.0"
        let notifier: ServiceNotifier
        let clientPort: NIOServerCnxnFactory
        let stop: @Sendable () -> Bool
        switch mode {
        case .standalone:
            let zks = ZooKeeperServer(config: config)
            try orExit("cannot load data") { try zks.loadData() }
            zks.startup()
            startPurgeTask(config, snapDir: zks.snapLog.snapDir, logDir: zks.snapLog.logDir)
            let factory = NIOServerCnxnFactory(zks: zks)
            try orExit("cannot listen on \(host):\(config.clientPort)") { try factory.start(host: host, port: config.clientPort) }
            logger.info("zkswiftd \(Version.full) serving clients on \(host):\(config.clientPort) (standalone, dataDir \(config.dataDir))")
            clientPort = factory
            notifier = ServiceNotifier(servingServer: { zks }, statusLine: { "STANDALONE serving clients on \(host):\(config.clientPort)" })
            notifier.statusChanged(serving: true)
            stop = {
                factory.stopAccepting()
                // Requests already read get their answers before the connections close.
                let deadline = Date(timeIntervalSinceNow: stopTimeoutSeconds / 2)
                while zks.outstandingRequests > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
                factory.shutdown()
                zks.shutdown()
                return true
            }
        case .quorum(let q):
            let notifierBox = NIOLockedValueBox<ServiceNotifier?>(nil)
            let peer = QuorumPeer(config: q) { status, serving in
                logger.info("Status: \(status)")
                notifierBox.withLockedValue { $0 }?.statusChanged(serving: serving)
            }
            notifier = ServiceNotifier(servingServer: { peer.servingServer }, statusLine: { peer.status })
            notifierBox.withLockedValue { $0 = notifier }
            try orExit("cannot load data") { try peer.loadDataBase() }
            startPurgeTask(config, snapDir: DataDirectory.versionPath(config.dataDir), logDir: DataDirectory.versionPath(config.dataLogDir))
            try orExit("cannot listen on \(host):\(config.clientPort)") { try peer.start(clientHost: host, clientPort: config.clientPort) }
            logger.info("zkswiftd \(Version.full) server.\(q.myid) of a \(q.view.members.count)-server ensemble, clients on \(host):\(config.clientPort), dataDir \(config.dataDir)")
            clientPort = peer.factory
            stop = { peer.shutdown(timeoutSeconds: stopTimeoutSeconds) }
        }
        let admin = config.adminEnableServer ? AdminServer(config: config, factory: clientPort) : nil
        do {
            try admin?.start()
        } catch {
            // As Apache: the server runs on without its AdminServer.
            logger.warning("Unable to start AdminServer on \(config.adminServerAddress):\(config.adminServerPort): \(error)")
        }
        let metrics = config.prometheusEnabled ? PrometheusMetricsProvider(config: config, factory: clientPort) : nil
        do {
            try metrics?.start()
        } catch {
            logger.error("Cannot start /metrics server on \(config.metricsHTTPHost):\(config.metricsHTTPPort): \(error)")
        }
        if let name = config.metricsProviderClassName, !config.prometheusEnabled {
            logger.notice("metricsProvider.className=\(name) is not implemented by zkswiftd; only \(ServerConfig.prometheusProviderClass) is")
        }
        notifier.start()

        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            src.setEventHandler {
                logger.info("Received signal \(sig); shutting down")
                notifier.stopping()
                // A stop that hangs must still end the process, or the service manager kills it harder.
                DispatchQueue.global().asyncAfter(deadline: .now() + stopTimeoutSeconds) {
                    logger.error("Shutdown did not finish within \(stopTimeoutSeconds)s; exiting now")
                    Foundation.exit(1)
                }
                admin?.shutdown()
                metrics?.shutdown()
                let clean = stop()
                if !clean { logger.warning("The server role did not end within \(stopTimeoutSeconds)s") }
                logger.info("Shut down")
                Foundation.exit(0)
            }
            src.resume()
            signalSources.append(src)
        }
        dispatchMain()
    }
}

extension ZKSwiftd {
    /// The log level: ZKSWIFTD_LOG_LEVEL, else zoo.cfg's zkswiftd.logLevel, else info.
    static func bootstrapLogging(configLevel: Logger.Level?) {
        let env = ProcessInfo.processInfo.environment
        let level = env["ZKSWIFTD_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? configLevel ?? .info
        let journal = DaemonLogHandler.stderrIsJournal(env)
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, logLevel: level, journal: journal) }
    }

    /// A bad configuration is one line on stderr and exit status 2.
    static func readConfig(_ path: String) throws(ExitCode) -> QuorumPeerConfig.Mode {
        do {
            let parsed = try ServerConfig.load(path: path)
            return try QuorumPeerConfig.resolve(parsed, readFile: { try? String(contentsOfFile: $0, encoding: .utf8) })
        } catch {
            FileHandle.standardError.write(Data("zkswiftd: invalid configuration: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// A start-up step whose failure is one line on stderr and exit status 1.
private func orExit(_ what: String, _ step: () throws -> Void) throws(ExitCode) {
    do {
        try step()
    } catch {
        FileHandle.standardError.write(Data("zkswiftd: \(what): \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// autopurge runs once per process, whatever role the server plays.
private func startPurgeTask(_ config: ServerConfig, snapDir: String, logDir: String) {
    let purge = DatadirCleanupManager(snapDir: snapDir, logDir: logDir, retainCount: config.autopurgeSnapRetainCount,
                                      intervalHours: config.autopurgeIntervalHours)
    purge.start()
    purgeTask = purge
}

/// How long SIGTERM may take: the pipeline drains, the log is synced.
private let stopTimeoutSeconds = 10.0

nonisolated(unsafe) private var purgeTask: DatadirCleanupManager?
nonisolated(unsafe) private var signalSources: [any DispatchSourceSignal] = []
