// snapshot.compression.method in zoo.cfg: Apache's three names in any case,
// with or without the `zookeeper.` prefix; anything else stops the start.
import Testing
@testable import ZKServer

@Suite struct SnapshotCompressionConfigTests {
    let base = "dataDir=/tmp/zk\nclientPort=2181\n"

    @Test func valuesTakeEffect() throws {
        #expect(try ServerConfig.parse(base, file: "f").snapshotCompression == .none)
        #expect(try ServerConfig.parse(base + "snapshot.compression.method=\n", file: "f").snapshotCompression == .none)
        #expect(try ServerConfig.parse(base + "snapshot.compression.method=gz\n", file: "f").snapshotCompression == .gz)
        #expect(try ServerConfig.parse(base + "snapshot.compression.method=SNAPPY\n", file: "f").snapshotCompression == .snappy)
        #expect(try ServerConfig.parse(base + "zookeeper.snapshot.compression.method=snappy\n", file: "f").snapshotCompression == .snappy)
        #expect(try ServerConfig.parse(base + "snapshot.compression.method=gz\n", file: "f").ignored.isEmpty)
    }

    @Test func anUnknownMethodIsAConfigError() {
        do {
            _ = try ServerConfig.parse(base + "snapshot.compression.method=lz4\n", file: "conf/zoo.cfg")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "conf/zoo.cfg:3: snapshot.compression.method=lz4: must be empty, gz or snappy")
        }
    }
}
