// server.N lines and the configuration text peers exchange (QuorumServer,
// QuorumMaj.toString).
import Testing
@testable import ZKQuorum

@Suite struct QuorumConfigTests {
    @Test func serverLineForms() throws {
        let a = try QuorumServer(id: 1, parsing: "127.0.0.1:2888:3888")
        #expect(a == QuorumServer(id: 1, host: "127.0.0.1", quorumPort: 2888, electionPort: 3888))
        let b = try QuorumServer(id: 4, parsing: "zk4.example:2888:3888:observer;2181")
        #expect(b.type == .observer && b.clientHost == "0.0.0.0" && b.clientPort == 2181)
        let c = try QuorumServer(id: 5, parsing: "[::1]:2888:3888:participant;[::1]:2181")
        #expect(c.host == "::1" && c.clientHost == "::1")
        #expect(c.configText == "[::1]:2888:3888:participant;[::1]:2181")
        #expect(b.configText == "zk4.example:2888:3888:observer;0.0.0.0:2181")
        #expect(a.configText == "127.0.0.1:2888:3888:participant")
    }

    @Test func badServerLines() {
        for bad in ["127.0.0.1:2888", "h:2888:3888:x:y", "h:2888:3888:voter", "h:abc:3888", "h:2888:2888",
                    "h:2888:3888;1;2", "h:2888:3888;x", "h1:1:2|h2:3:4", "[::1:2888:3888", "h:2888:99999"] {
            #expect(throws: QuorumServer.ParseError.self, "\(bad)") { try QuorumServer(id: 1, parsing: bad) }
        }
    }

    @Test func configTextAsApacheSendsIt() throws {
        let q = QuorumMaj(members: try [3, 1, 2].map { try QuorumServer(id: $0, parsing: "127.0.0.1:\(35287 + $0):\(35387 + $0)") })
        #expect(q.configText == QuorumRecordsTestsConfig.text)
    }

    @Test func majorityCountsVotersOnly() throws {
        var members = try (1...5).map { try QuorumServer(id: $0, parsing: "h:\(2000 + $0):\(3000 + $0)") }
        members.append(try QuorumServer(id: 9, parsing: "h:2009:3009:observer"))
        let q = QuorumMaj(members: members)
        #expect(!q.containsQuorum([1, 2]))
        #expect(!q.containsQuorum([1, 2, 9]))
        #expect(q.containsQuorum([1, 2, 3]))
        #expect(q.isVoter(5) && !q.isVoter(9) && !q.isVoter(7))
    }
}

enum QuorumRecordsTestsConfig {
    static let text = "server.1=127.0.0.1:35288:35388:participant\nserver.2=127.0.0.1:35289:35389:participant\nserver.3=127.0.0.1:35290:35390:participant\nversion=0"
}
