// zoo.cfg parsing: Java properties syntax, the keys that take effect, the
// `zookeeper.` prefix, and one-line errors naming file, line, key and value.
import Foundation
import Testing
@testable import ZKServer

@Suite struct JavaPropertiesTests {
    @Test func commentsSeparatorsAndTrimming() {
        let text = """
        # comment
        ! also a comment
           tickTime = 3000
        dataDir:/var/lib/zk
        clientPort 2181

        key\\ with\\ space=v
        """
        let e = JavaProperties.parse(text)
        #expect(e.map(\.key) == ["tickTime", "dataDir", "clientPort", "key with space"])
        #expect(e.map(\.value) == ["3000", "/var/lib/zk", "2181", "v"])
        #expect(e.map(\.line) == [3, 4, 5, 7])
    }

    @Test func lineContinuation() {
        let e = JavaProperties.parse("4lw.commands.whitelist=srvr,\\\n    ruok,\\\n  stat\nnext=1\n")
        #expect(e.count == 2)
        #expect(e[0].value == "srvr,ruok,stat")
        #expect(e[0].line == 1)
        #expect(e[1].key == "next" && e[1].line == 4)
    }

    @Test func escapedBackslashIsNotAContinuation() {
        let e = JavaProperties.parse("a=x\\\\\nb=y\n")
        #expect(e.map(\.value) == ["x\\", "y"])
    }
}

@Suite struct ServerConfigTests {
    let base = "dataDir=/tmp/zk\nclientPort=2181\n"

    @Test func defaults() throws {
        let c = try ServerConfig.parse(base, file: "zoo.cfg")
        #expect(c.tickTime == 2000)
        #expect(c.effectiveMinSessionTimeout == 4000)
        #expect(c.effectiveMaxSessionTimeout == 40000)
        #expect(c.dataLogDir == "/tmp/zk")
        #expect(c.maxClientCnxns == 60)
        #expect(c.globalOutstandingLimit == 1000)
        #expect(c.juteMaxBuffer == 0xfffff)
        #expect(c.fourLetterWordWhitelist == ["srvr"])
        #expect(c.extendedTypesEnabled == false)
        #expect(c.containerCheckIntervalMs == 60000)
    }

    @Test func implementedKeysTakeEffect() throws {
        let c = try ServerConfig.parse(base + """
        tickTime=500
        dataLogDir=/tmp/log
        clientPortAddress=127.0.0.1
        maxClientCnxns=7
        minSessionTimeout=1500
        maxSessionTimeout=9000
        globalOutstandingLimit=33
        jute.maxbuffer=4096
        4lw.commands.whitelist=ruok, stat
        DigestAuthenticationProvider.superDigest=super:abc=
        zookeeper.extendedTypesEnabled=true
        znode.container.checkIntervalMs=1000
        zookeeper.znode.container.maxPerMinute=5
        readonlymode.enabled=true
        """, file: "zoo.cfg")
        #expect(c.tickTime == 500)
        #expect(c.dataLogDir == "/tmp/log")
        #expect(c.clientPortAddress == "127.0.0.1")
        #expect(c.maxClientCnxns == 7)
        #expect(c.effectiveMinSessionTimeout == 1500)
        #expect(c.effectiveMaxSessionTimeout == 9000)
        #expect(c.globalOutstandingLimit == 33)
        #expect(c.juteMaxBuffer == 4096)
        #expect(c.fourLetterWordWhitelist == ["ruok", "stat", "srvr", "isro"])
        #expect(c.superDigest == "super:abc=")
        #expect(c.extendedTypesEnabled)
        #expect(c.containerCheckIntervalMs == 1000)
        #expect(c.containerMaxPerMinute == 5)
        #expect(c.readOnlyModeEnabled)
    }

    @Test func prefixedSuperDigest() throws {
        let c = try ServerConfig.parse(base + "zookeeper.DigestAuthenticationProvider.superDigest=su:xyz\n", file: "f")
        #expect(c.superDigest == "su:xyz")
    }

    @Test func unimplementedKeysAreIgnoredNotFatal() throws {
        let c = try ServerConfig.parse(base + "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\nauthProvider.1=x.Y\nautopurge.purgeInterval=1\nsslQuorum=false\n", file: "f")
        #expect(c.ignored.map(\.key) == ["serverCnxnFactory", "authProvider.1", "sslQuorum"])
        #expect(c.ignored.map(\.line) == [3, 4, 6])
        #expect(c.autopurgeIntervalHours == 1)
    }

    private func error(_ text: String) -> ConfigError? {
        do { _ = try ServerConfig.parse(text, file: "conf/zoo.cfg"); return nil } catch { return error }
    }

    @Test func badValuesNameFileLineKeyAndValue() {
        #expect(error(base + "tickTime=abc\n")?.description == "conf/zoo.cfg:3: tickTime=abc: not an integer")
        #expect(error("dataDir=/x\nclientPort=70000\n")?.description == "conf/zoo.cfg:2: clientPort=70000: must be between 0 and 65535")
        #expect(error(base + "extendedTypesEnabled=maybe\n")?.description == "conf/zoo.cfg:3: extendedTypesEnabled=maybe: must be true or false")
        #expect(error(base + "maxClientCnxns=-3\n")?.line == 3)
        #expect(error("clientPort=2181\n")?.description == "conf/zoo.cfg: dataDir is not set")
        #expect(error("dataDir=/x\n")?.description == "conf/zoo.cfg: clientPort is not set")
        #expect(error(base + "minSessionTimeout=50000\n") != nil)
    }

    @Test func ensembleKeysAreLeftToTheQuorumConfiguration() throws {
        let c = try ServerConfig.parse("dataDir=/x\nserver.1=127.0.0.1:2888:3888;2181\ninitLimit=5\nzookeeper.cnxTimeout=9\n", file: "f")
        #expect(c.quorumEntries.map(\.key) == ["server.1", "initLimit", "zookeeper.cnxTimeout"])
        #expect(c.ignored.isEmpty && !c.clientPortSet)
    }

    @Test func unreadableFile() {
        do {
            _ = try ServerConfig.load(path: "/nonexistent/zoo.cfg")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/zoo.cfg: cannot read the configuration file")
        }
    }

    private func withFile(_ text: String, _ body: (String) throws -> Void) rethrows {
        let path = NSTemporaryDirectory() + "zoo-\(UUID().uuidString).cfg"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func loadsAGoodFile() throws {
        try withFile("# standalone\ntickTime=1000\ndataDir=/var/lib/zk\nclientPort=2182\n") { path in
            let c = try ServerConfig.load(path: path)
            #expect(c.configPath == path)
            #expect(c.tickTime == 1000 && c.clientPort == 2182 && c.dataDir == "/var/lib/zk")
        }
    }

    @Test func aBadFileNamesItsPathAndLine() {
        withFile("dataDir=/var/lib/zk\nclientPort=2181\n\nmaxSessionTimeout=lots\n") { path in
            do {
                _ = try ServerConfig.load(path: path)
                Issue.record("expected an error")
            } catch {
                #expect((error as? ConfigError)?.description == "\(path):4: maxSessionTimeout=lots: not an integer")
            }
        }
    }
}
