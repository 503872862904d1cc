// The zoo.cfg files shipped in conf/ (and in the Debian package): each
// parses, resolves to the mode it says, and uses no key zkswiftd ignores.
import Foundation
import Testing
import ZKServer
@testable import ZKQuorum

@Suite struct ShippedConfigTests {
    static let confDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../conf").standardized.path

    static func load(_ name: String, myid: String) throws -> (ServerConfig, QuorumPeerConfig.Mode) {
        let c = try ServerConfig.load(path: "\(confDir)/\(name)")
        let mode = try QuorumPeerConfig.resolve(c) { $0.hasSuffix("/myid") ? myid : nil }
        return (c, mode)
    }

    @Test func standaloneDefault() throws {
        let (c, mode) = try Self.load("zoo.cfg", myid: "1")
        guard case .standalone = mode else { Issue.record("conf/zoo.cfg should be standalone"); return }
        #expect(c.ignored.map(\.key) == [])
        #expect(c.adminEnableServer && c.adminServerPort == 8080 && c.prometheusEnabled)
    }

    @Test func threeNodes() throws {
        let (c, mode) = try Self.load("zoo-3node.cfg", myid: "2")
        guard case .quorum(let q) = mode else { Issue.record("zoo-3node.cfg should be an ensemble"); return }
        #expect(c.ignored.map(\.key) == [])
        #expect(q.myid == 2 && q.view.votingMembers == [1, 2, 3] && q.view.observingMembers.isEmpty)
        #expect(c.logLevel == .info && c.autopurgeIntervalHours == 24)
    }

    @Test func fiveNodesAndAnObserver() throws {
        let (c, mode) = try Self.load("zoo-5node-observer.cfg", myid: "6")
        guard case .quorum(let q) = mode else { Issue.record("zoo-5node-observer.cfg should be an ensemble"); return }
        #expect(c.ignored.map(\.key) == [])
        #expect(q.view.votingMembers == [1, 2, 3, 4, 5] && q.view.observingMembers == [6])
        #expect(q.view.members[6]?.type == .observer)
    }
}
