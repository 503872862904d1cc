// The tree of a fresh server (wire-protocol.md §8.3, DataTree constructor in Apache).
import Testing
import ZKData
import ZKJute

@Suite struct InitialTreeTests {
    let tree = DataTree()

    @Test func nodesAndCount() throws {
        #expect(tree.nodeCount == 5)  // "", "/", /zookeeper, /zookeeper/quota, /zookeeper/config in Apache
        #expect(Set(try tree.getChildren("/", watcher: nil).0) == ["zookeeper"])
        #expect(Set(try tree.getChildren("/zookeeper", watcher: nil).0) == ["quota", "config"])
        #expect(try tree.getChildren("/zookeeper/quota", watcher: nil).0 == [])
        #expect(try tree.getChildren("/zookeeper/config", watcher: nil).0 == [])
        #expect(tree.getNode("/nope") == nil)
        #expect(tree.lastProcessedZxid == 0)
    }

    @Test func rootReportsCversionMinusOne() throws {
        let s = try tree.statNode("/", watcher: nil)
        var expected = Stat()
        expected.cversion = -1
        expected.numChildren = 1
        #expect(s == expected)
    }

    @Test func zookeeperReportsCversionMinusTwo() throws {
        let s = try tree.statNode("/zookeeper", watcher: nil)
        #expect(s.cversion == -2)
        #expect(s.numChildren == 2)
        #expect(s.czxid == 0 && s.mzxid == 0 && s.pzxid == 0 && s.version == 0 && s.aversion == 0)
    }

    @Test func configHasAversionMinusOneAndReadOnlyWorldACL() throws {
        let (acl, s) = try tree.getACL("/zookeeper/config")
        #expect(acl == [ACL(perms: Perms.read, id: Id(scheme: "world", id: "anyone"))])
        #expect(s.aversion == -1)
        #expect(s.version == 0 && s.cversion == 0 && s.numChildren == 0)
        #expect(tree.getNode("/zookeeper/config")!.stat.aversion == -1)
    }

    @Test func otherInitialNodesHaveOpenACL() throws {
        for p in ["/", "/zookeeper", "/zookeeper/quota"] {
            #expect(try tree.getACL(p).0 == ACL.openACLUnsafe, "\(p)")
        }
    }

    /// Apache builds these nodes with `new byte[0]`: getData returns an empty
    /// buffer (length 0 on the wire), not null (length -1). §8.3: "empty data".
    @Test func initialNodesHaveEmptyNotNullData() throws {
        for p in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
            let (data, s) = try tree.getData(p, watcher: nil)
            #expect(data == [], "\(p)")
            #expect(s.dataLength == 0)
        }
    }

    @Test func allChildrenNumberOfRootCountsTheZookeeperNodes() {
        #expect(tree.getAllChildrenNumber("/") == 3)
        #expect(tree.getAllChildrenNumber("/zookeeper") == 2)
        #expect(tree.getAllChildrenNumber("/zookeeper/quota") == 0)
    }

    @Test func emptyIndexes() {
        #expect(tree.ephemerals.isEmpty)
        #expect(tree.containers.isEmpty)
        #expect(tree.ttls.isEmpty)
        #expect(tree.ephemeralCount == 0)
        #expect(tree.dataWatches.watchCount == 0)
        #expect(tree.childWatches.watchCount == 0)
    }
}
