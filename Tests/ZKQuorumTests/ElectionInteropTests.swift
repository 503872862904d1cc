// Our election port and notifications against Apache ZooKeeper 3.8.0: two
// Apache servers and one in-process zkswiftd peer form a 3-member voting
// view, and all three agree on the leader Apache's rules pick.
import Foundation
import NIOConcurrencyHelpers
import Testing
import ZKJute
@testable import ZKQuorum

/// One Apache QuorumPeerMain process of the ensemble.
final class ApachePeer: @unchecked Sendable {
    let process = Process()
    let dir: URL
    let clientPort: Int

    init(sid: Int64, view: QuorumMaj, clientPort: Int) throws {
        self.clientPort = clientPort
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkq-\(sid)-\(UUID().uuidString)")
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try "\(sid)\n".write(to: data.appendingPathComponent("myid"), atomically: true, encoding: .utf8)
        var cfg = "tickTime=1000\ninitLimit=10\nsyncLimit=5\ndataDir=\(data.path)\nclientPort=\(clientPort)\n"
        cfg += "clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n"
        for id in view.members.keys.sorted() {
            let m = view.members[id]!
            cfg += "server.\(id)=127.0.0.1:\(m.quorumPort):\(m.electionPort)\n"
        }
        let cfgFile = dir.appendingPathComponent("zoo.cfg")
        try cfg.write(to: cfgFile, atomically: true, encoding: .utf8)
        let log4j = dir.appendingPathComponent("log4j.properties")
        try "log4j.rootLogger=INFO, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\nlog4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\nlog4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [%t] %-5p %c{1} - %m%n\n"
            .write(to: log4j, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/java")
        process.arguments = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                             "-Dlog4j.configuration=file:\(log4j.path)",
                             "-cp", "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar",
                             "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgFile.path]
        let logPath = dir.appendingPathComponent("server.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOf: dir.appendingPathComponent("server.log"), encoding: .utf8)) ?? "" }

    /// `srvr`'s Mode line (leader, follower), nil while it does not serve.
    var mode: String? {
        guard let text = fourLetter("srvr", port: clientPort) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("Mode: ") }.map { String($0.dropFirst(6)) }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }
}

func fourLetter(_ cmd: String, port: Int) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { return nil }
    _ = cmd.withCString { send(fd, $0, 4, 0) }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buf, buf.count, 0)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

@Suite(.serialized) struct ElectionInteropTests {
    @Test func zkswiftdPeerAgreesWithTwoApachePeers() throws {
        let view = try FastLeaderElectionTests.view([1, 2, 3])
        // Our peer is sid 1 with the same empty data (zxid 0, epoch 0): it
        // cannot win, and must follow whichever Apache server ends up leading
        // (sid 3 when all start together, sid 2 if 3's JVM is slow to come up).
        let ours = ElectionPeer(myid: 1, view: view, zxid: 0, epoch: 0)
        let apache = try [2, 3].map { try ApachePeer(sid: $0, view: view, clientPort: try freePort()) }
        defer {
            ours.stop()
            apache.forEach { $0.stop() }
        }
        ours.start()
        let result = NIOLockedValueBox<[Int64: FastLeaderElectionCore.Outcome]>([:])
        _ = ours.elect(result)
        let modes = { apache.map(\.mode) }
        let settled = waitUntil(timeoutMs: 60000) {
            result.withLockedValue { $0[1] } != nil && Set(modes().compactMap { $0 }) == ["leader", "follower"]
        }
        #expect(settled, "ours: \(String(describing: result.withLockedValue { $0[1] })), apache: \(modes())\n\(apache[1].log.suffix(2000))")
        let leader: Int64 = modes()[0] == "leader" ? 2 : 3
        #expect(result.withLockedValue { $0[1] } == .following(leader: leader))
        // Apache took our notifications as a member's.
        #expect(!apache[0].log.contains("Ignoring notification") && !apache[1].log.contains("Ignoring notification"))
    }

    /// Our peer (sid 1) and one Apache voter (sid 3) of a 3-member view: no
    /// leader without both votes. Waits until ours decides and Apache's log
    /// shows `apacheState`; returns our outcome.
    static func pairElection(ourZxid: Int64, ourEpoch: Int64, apacheState: String) throws -> FastLeaderElectionCore.Outcome? {
        let view = try FastLeaderElectionTests.view([1, 2, 3])
        let ours = ElectionPeer(myid: 1, view: view, zxid: ourZxid, epoch: ourEpoch)
        let apache = try ApachePeer(sid: 3, view: view, clientPort: try freePort())
        defer {
            ours.stop()
            apache.stop()
        }
        ours.start()
        let result = NIOLockedValueBox<[Int64: FastLeaderElectionCore.Outcome]>([:])
        _ = ours.elect(result)
        let done = waitUntil(timeoutMs: 60000) { result.withLockedValue { $0[1] } != nil && apache.log.contains("Peer state changed: \(apacheState)") }
        #expect(done, "ours: \(String(describing: result.withLockedValue { $0[1] }))\n\(apache.log.suffix(3000))")
        return result.withLockedValue { $0[1] }
    }

    @Test func apacheNeedsOurVoteToLead() throws {
        // Same empty data: sid 3 wins, and can only lead on our vote.
        #expect(try Self.pairElection(ourZxid: 0, ourEpoch: 0, apacheState: "leading") == .following(leader: 3))
    }

    @Test func apacheFollowsOurPeerWhenItsVoteIsBest() throws {
        // Our peer has the newer epoch, so it wins even with the lowest sid.
        #expect(try Self.pairElection(ourZxid: Zxid.make(epoch: 1, counter: 4), ourEpoch: 1, apacheState: "following") == .leading)
    }
}
