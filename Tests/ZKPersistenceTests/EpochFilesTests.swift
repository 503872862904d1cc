// acceptedEpoch / currentEpoch: Apache's bytes and start-up rules.
import Foundation
import Testing
import ZKPersistence

@Suite struct EpochFilesTests {
    @Test func writesDecimalTextWithoutNewline() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let f = EpochFiles(snapDir: dir)
        try f.write(EpochFiles.current, 1)
        #expect(try readBytes(dir + "/currentEpoch") == [0x31])
        #expect(!FileManager.default.fileExists(atPath: dir + "/currentEpoch.tmp"))
        try f.write(EpochFiles.accepted, 4_294_967_296)
        #expect(try f.read(EpochFiles.accepted) == 4_294_967_296)
        #expect(try f.read("nothing") == nil)
        try Data("2\n".utf8).write(to: URL(fileURLWithPath: dir + "/currentEpoch"))
        #expect(try f.read(EpochFiles.current) == 2)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/currentEpoch"))
        #expect(throws: PersistenceError.self) { try f.read(EpochFiles.current) }
    }

    @Test func startUpRules() throws {
        let dir = try makeTempDir()
        defer { removeTempDir(dir) }
        let f = EpochFiles(snapDir: dir)
        // Missing files are created from the data's epoch.
        #expect(try f.loadOrCreate(dataEpoch: 3) == (3, 3))
        #expect(try f.read(EpochFiles.current) == 3 && f.read(EpochFiles.accepted) == 3)
        // Data newer than currentEpoch: only a currentEpoch.tmp can explain it.
        #expect(throws: PersistenceError.self) { try f.loadOrCreate(dataEpoch: 4) }
        try Data("4".utf8).write(to: URL(fileURLWithPath: dir + "/currentEpoch.tmp"))
        try f.write(EpochFiles.accepted, 4)
        #expect(try f.loadOrCreate(dataEpoch: 4) == (4, 4))
        #expect(try f.read(EpochFiles.current) == 4)
        // acceptedEpoch behind currentEpoch is refused.
        try f.write(EpochFiles.accepted, 2)
        #expect(throws: PersistenceError.self) { try f.loadOrCreate(dataEpoch: 4) }
    }
}
