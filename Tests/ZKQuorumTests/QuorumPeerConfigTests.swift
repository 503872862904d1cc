// Which configurations make an ensemble member, and the one-line errors for
// those that cannot (issue 4 item 1).
import Testing
import ZKServer
@testable import ZKQuorum

@Suite struct QuorumPeerConfigTests {
    static let ensemble = """
        tickTime=2000
        dataDir=/var/lib/zk
        clientPort=2181
        initLimit=10
        syncLimit=5
        server.1=10.0.0.1:2888:3888
        server.2=10.0.0.2:2888:3888
        server.3=10.0.0.3:2888:3888:participant;2182
        server.4=10.0.0.4:2888:3888:observer

        """

    static func resolve(_ text: String, myid: String? = "2") throws(ConfigError) -> QuorumPeerConfig.Mode {
        let c = try ServerConfig.parse(text, file: "zoo.cfg")
        var named = c
        named.configPath = "zoo.cfg"
        return try QuorumPeerConfig.resolve(named) { path in path == "/var/lib/zk/myid" ? myid : nil }
    }

    static func error(_ text: String, myid: String? = "2") -> String? {
        do { _ = try resolve(text, myid: myid); return nil } catch { return error.description }
    }

    @Test func ensembleMember() throws {
        guard case .quorum(let q) = try Self.resolve(Self.ensemble) else { Issue.record("not an ensemble"); return }
        #expect(q.myid == 2 && q.initLimit == 10 && q.syncLimit == 5)
        #expect(q.view.votingMembers == [1, 2, 3] && q.view.observingMembers == [4])
        #expect(q.me.host == "10.0.0.2" && q.peerType == .participant)
        #expect(q.server.clientPort == 2181)
        #expect(q.view.configText.hasPrefix("server.1=10.0.0.1:2888:3888:participant\n"))
    }

    @Test func observerTakesItsRoleFromTheServerList() throws {
        guard case .quorum(let q) = try Self.resolve(Self.ensemble + "peerType=participant\n", myid: "4\n") else { return }
        #expect(q.peerType == .observer && q.myid == 4)
    }

    @Test func clientPortFromTheServerLine() throws {
        let text = Self.ensemble.replacingOccurrences(of: "clientPort=2181\n", with: "")
        guard case .quorum(let q) = try Self.resolve(text, myid: "3") else { Issue.record("not an ensemble"); return }
        #expect(q.server.clientPort == 2182 && q.server.clientPortAddress == "0.0.0.0")
        #expect(Self.error(text, myid: "1")?.contains("clientPort is not set") == true)
    }

    @Test func standaloneWhenFewerThanTwoVoters() throws {
        let one = "dataDir=/var/lib/zk\nclientPort=2181\nserver.1=10.0.0.1:2888:3888\n"
        guard case .standalone = try Self.resolve(one, myid: nil) else { Issue.record("one voter is standalone"); return }
        guard case .standalone = try Self.resolve("dataDir=/var/lib/zk\nclientPort=2181\n", myid: nil) else { Issue.record("no servers"); return }
        // ...unless standaloneEnabled=false
        guard case .quorum = try Self.resolve(one + "standaloneEnabled=false\ninitLimit=5\nsyncLimit=2\n", myid: "1") else {
            Issue.record("standaloneEnabled=false makes a one-server ensemble"); return
        }
    }

    @Test func errorsAreOneLineNamingWhatIsWrong() {
        #expect(Self.error(Self.ensemble, myid: nil) == "/var/lib/zk/myid: /var/lib/zk/myid file is missing")
        #expect(Self.error(Self.ensemble, myid: "two") == "/var/lib/zk/myid: serverid two is not a number")
        #expect(Self.error(Self.ensemble, myid: "7")?.contains("My id 7 not in the peer list") == true)
        #expect(Self.error(Self.ensemble + "server.5=10.0.0.5:2888\n") == "zoo.cfg:10: server.5=10.0.0.5:2888: 10.0.0.5:2888 does not have the form server_config or server_config;client_config where server_config is the pipe separated list of host:port:port or host:port:port:type and client_config is port or host:port")
        #expect(Self.error(Self.ensemble + "server.5=10.0.0.5:2888:3888:voter\n") == "zoo.cfg:10: server.5=10.0.0.5:2888:3888:voter: Unrecognised peertype: voter")
        #expect(Self.error(Self.ensemble + "server.5=10.0.0.1:2888:3999\n") == "zoo.cfg:10: server.5=10.0.0.1:2888:3999: quorum port 10.0.0.1:2888 is already the quorum port of server.1")
        #expect(Self.error(Self.ensemble + "server.5=10.0.0.5:2888:3888;10.0.0.1:3888\n")?.contains("already the election port of server.1") == true)
        #expect(Self.error(Self.ensemble + "server.x=10.0.0.5:2888:3888\n")?.contains("the server id must be a number") == true)
        #expect(Self.error(Self.ensemble.replacingOccurrences(of: "initLimit=10\n", with: "")) == "zoo.cfg: initLimit is not set")
        #expect(Self.error(Self.ensemble + "syncLimit=x\n") == "zoo.cfg:10: syncLimit=x: not an integer")
        #expect(Self.error(Self.ensemble + "electionAlg=1\n")?.contains("Only 3 is supported") == true)
        #expect(Self.error(Self.ensemble + "group.1=1:2:3\n")?.contains("not supported") == true)
        #expect(Self.error(Self.ensemble + "server.1=10.0.0.9:2888:3888\n")?.contains("listed twice") == true)
        let big = Self.ensemble + "server.300=10.0.0.30:2888:3888\nextendedTypesEnabled=true\n"
        #expect(Self.error(big, myid: "300")?.contains("must be 254 or less") == true)
        #expect(Self.error(big, myid: "2") == nil)
    }
}
