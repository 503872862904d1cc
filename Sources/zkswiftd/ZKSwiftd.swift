// The daemon's entry point: `zkswiftd PATH/zoo.cfg`. Reads the configuration
// once, recovers the data directory, starts the standalone server and its
// client port, and stops on SIGTERM/SIGINT. A bad configuration is one line
// on stderr and exit status 2; data it cannot recover, one line and status 1.
import ArgumentParser
import Dispatch
import Foundation
import Logging
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

        let config: ServerConfig
        do {
            let parsed = try ServerConfig.load(path: configFile)
            switch try QuorumPeerConfig.resolve(parsed, readFile: { try? String(contentsOfFile: $0, encoding: .utf8) }) {
            case .standalone(let c):
                config = c
            case .quorum(let q):
                // The configuration checks out; the ensemble protocols are not wired up yet.
                FileHandle.standardError.write(Data("zkswiftd: \(configFile): server.\(q.myid) of a \(q.view.members.count)-server ensemble: ensemble mode is not available in this version yet; remove the server.N lines to run standalone\n".utf8))
                throw ExitCode(2)
            }
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("zkswiftd: invalid configuration: \(e)\n".utf8))
            throw ExitCode(2)
        }
        for e in config.ignored {
            logger.notice("\(config.configPath):\(e.line): \(e.key) is not implemented by zkswiftd yet; ignored")
        }
        let zks = ZooKeeperServer(config: config)
        do {
            try zks.loadData()
        } catch {
            FileHandle.standardError.write(Data("zkswiftd: cannot load data: \(error)\n".utf8))
            throw ExitCode(1)
        }
        zks.startup()
        let factory = NIOServerCnxnFactory(zks: zks)
        let host = config.clientPortAddress ?? "0.0.0.0"
        do {
            try factory.start(host: host, port: config.clientPort)
        } catch {
            FileHandle.standardError.write(Data("zkswiftd: cannot listen on \(host):\(config.clientPort): \(error)\n".utf8))
            throw ExitCode(1)
        }
        logger.info("zkswiftd \(Version.full) serving clients on \(host):\(config.clientPort) (standalone, dataDir \(config.dataDir))")

        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            src.setEventHandler {
                logger.info("Received signal \(sig); shutting down")
                factory.shutdown()
                zks.shutdown()
                Foundation.exit(0)
            }
            src.resume()
            signalSources.append(src)
        }
        dispatchMain()
    }
}

nonisolated(unsafe) private var signalSources: [any DispatchSourceSignal] = []
