// The daemon's entry point: `zkswiftd PATH/zoo.cfg`. Reads the configuration
// once, recovers the data directory, starts the standalone server and its
// client port, and stops on SIGTERM/SIGINT. A bad configuration is one line
// on stderr and exit status 2; data it cannot recover, one line and status 1.
import ArgumentParser
import Dispatch
import Foundation
import Logging
import ZKPersistence
import ZKQuorum
import ZKServer

@main
struct ZKSwiftd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zkswiftd",
        abstract: "A ZooKeeper 3.8 compatible server.",
        discussion: """
        Reads an Apache ZooKeeper style zoo.cfg and serves ZooKeeper clients on its clientPort.
        The log goes to stderr; set ZKSWIFTD_LOG_LEVEL (trace, debug, info, notice, warning, error) to change its level.
        """,
        version: Version.full)

    @Argument(help: "Path of the zoo.cfg configuration file.")
    var configFile: String

    func run() throws {
        let level = ProcessInfo.processInfo.environment["ZKSWIFTD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "zkswiftd")

        let mode = try Self.readConfig(configFile)
        let config: ServerConfig
        switch mode {
        case .standalone(let c): config = c
        case .quorum(let q): config = q.server
        }
        for e in config.ignored {
            logger.notice("\(config.configPath):\(e.line): \(e.key) is not implemented by zkswiftd yet; ignored")
        }
        let host = config.clientPortAddress ?? "0.0.0.0"
        let stop: @Sendable () -> Void
        switch mode {
        case .standalone:
            let zks = ZooKeeperServer(config: config)
            try orExit("cannot load data") { try zks.loadData() }
            zks.startup()
            startPurgeTask(config, snapDir: zks.snapLog.snapDir, logDir: zks.snapLog.logDir)
            let factory = NIOServerCnxnFactory(zks: zks)
            try orExit("cannot listen on \(host):\(config.clientPort)") { try factory.start(host: host, port: config.clientPort) }
            logger.info("zkswiftd \(Version.full) serving clients on \(host):\(config.clientPort) (standalone, dataDir \(config.dataDir))")
            stop = {
                factory.shutdown()
                zks.shutdown()
            }
        case .quorum(let q):
            let peer = QuorumPeer(config: q) { status in logger.info("Status: \(status)") }
            try orExit("cannot load data") { try peer.loadDataBase() }
            startPurgeTask(config, snapDir: DataDirectory.versionPath(config.dataDir), logDir: DataDirectory.versionPath(config.dataLogDir))
            try orExit("cannot listen on \(host):\(config.clientPort)") { try peer.start(clientHost: host, clientPort: config.clientPort) }
            logger.info("zkswiftd \(Version.full) server.\(q.myid) of a \(q.view.members.count)-server ensemble, clients on \(host):\(config.clientPort), dataDir \(config.dataDir)")
            stop = { peer.shutdown() }
        }

        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            src.setEventHandler {
                logger.info("Received signal \(sig); shutting down")
                stop()
                Foundation.exit(0)
            }
            src.resume()
            signalSources.append(src)
        }
        dispatchMain()
    }
}

extension ZKSwiftd {
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

nonisolated(unsafe) private var purgeTask: DatadirCleanupManager?
nonisolated(unsafe) private var signalSources: [any DispatchSourceSignal] = []
