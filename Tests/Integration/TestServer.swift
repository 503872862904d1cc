// Starts one real server process per test on a free loopback port: zkswiftd by
// default, Apache ZooKeeper 3.8.0 (Debian's jar) when ZK_INTEGRATION_TARGET=apache,
// so that the same tests check both. Ready when `ruok` answers `imok`.
import Foundation
import ZKClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TestServerError: Error, CustomStringConvertible {
    let description: String
}

/// `@unchecked Sendable`: `process` and `dir` are set once in init; the client
/// list is guarded by `lock`.
final class TestServer: @unchecked Sendable {
    enum Kind: String { case zkswiftd, apache }

    static var kind: Kind {
        ProcessInfo.processInfo.environment["ZK_INTEGRATION_TARGET"] == "apache" ? .apache : .zkswiftd
    }

    /// Tests/Integration/TestServer.swift -> package root.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let port: Int
    let dir: URL
    private let process: Process
    private let lock = NSLock()
    private var clients: [ZooKeeperClient] = []

    var connectString: String { "127.0.0.1:\(port)" }
    var logFile: URL { dir.appendingPathComponent("server.log") }

    private init(port: Int, dir: URL, process: Process) {
        self.port = port; self.dir = dir; self.process = process
    }

    /// `config` lines are appended to zoo.cfg (Apache turns unknown keys into
    /// `zookeeper.<key>` system properties, zkswiftd reads them directly).
    static func start(config: [String: String] = [:]) async throws -> TestServer {
        var lastError: (any Error)?
        // a port found free can be taken before the server binds it: retry
        for _ in 0..<3 {
            do { return try await startOnce(config: config) } catch { lastError = error }
        }
        throw lastError!
    }

    private static func startOnce(config: [String: String]) async throws -> TestServer {
        let port = try freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        var cfg = """
        tickTime=2000
        dataDir=\(dir.appendingPathComponent("data").path)
        clientPort=\(port)
        4lw.commands.whitelist=*

        """
        for (k, v) in config.sorted(by: { $0.key < $1.key }) { cfg += "\(k)=\(v)\n" }
        let cfgFile = dir.appendingPathComponent("zoo.cfg")
        try cfg.write(to: cfgFile, atomically: true, encoding: .utf8)

        let process = Process()
        switch kind {
        case .zkswiftd:
            let bin = ProcessInfo.processInfo.environment["ZKSWIFTD_BIN"]
                ?? packageRoot.appendingPathComponent(".build/debug/zkswiftd").path
            guard FileManager.default.isExecutableFile(atPath: bin) else {
                throw TestServerError(description: "zkswiftd binary not found at \(bin) (set ZKSWIFTD_BIN, or ZK_INTEGRATION_TARGET=apache)")
            }
            process.executableURL = URL(fileURLWithPath: bin)
            process.arguments = [cfgFile.path]
        case .apache:
            let log4j = dir.appendingPathComponent("log4j.properties")
            try """
            log4j.rootLogger=INFO, CONSOLE
            log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
            log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
            log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [%t] %-5p %c{1} - %m%n

            """.write(to: log4j, atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/java")
            process.arguments = [
                // a quick JVM start matters more here than peak speed
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-Xshare:auto",
                // the AdminServer would fight over port 8080 between parallel tests
                "-Dzookeeper.admin.enableServer=false",
                "-Dlog4j.configuration=file:\(log4j.path)",
                "-cp", "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar",
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgFile.path,
            ]
        }
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("server.log").path, contents: nil)
        let log = try FileHandle(forWritingTo: dir.appendingPathComponent("server.log"))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let server = TestServer(port: port, dir: dir, process: process)
        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline {
            if fourLetterWord("ruok", port: port) == "imok" { return server }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = (try? String(contentsOf: server.logFile, encoding: .utf8))?.suffix(3000) ?? ""
        server.stop()
        throw TestServerError(description: "\(kind) on port \(port) did not answer ruok; log tail:\n\(tail)")
    }

    /// A client that `withServer` closes before it kills the server.
    func client(sessionTimeout: Int32 = 30000, session: SessionCredentials? = nil,
                connectString: String? = nil) async throws -> ZooKeeperClient {
        let zk = try await ZooKeeperClient.connect(connectString ?? self.connectString,
                                                   sessionTimeout: sessionTimeout, session: session)
        lock.withLock { clients.append(zk) }
        return zk
    }

    func closeClients() async {
        let all = lock.withLock { let c = clients; clients = []; return c }
        for c in all { await c.close() }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }

    // MARK: sockets

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError(description: "socket() failed") }
        defer { _ = Glibc.close(fd) }
        var addr = loopback(port: 0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestServerError(description: "bind() failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    /// Sends a four-letter word and returns everything up to EOF (nil if the
    /// port does not accept connections yet).
    static func fourLetterWord(_ word: String, port: Int) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = loopback(port: UInt16(port))
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let bytes = Array(word.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { return nil }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Runs `body` against a fresh server, then closes its clients and kills it,
/// whether or not the body threw.
func withServer(config: [String: String] = [:], _ body: (TestServer) async throws -> Void) async throws {
    let server = try await TestServer.start(config: config)
    do {
        try await body(server)
    } catch {
        await server.closeClients()
        server.stop()
        throw error
    }
    await server.closeClients()
    server.stop()
}
