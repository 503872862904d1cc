import Testing
@testable import ZKServer

@Suite struct CommittedLogTests {
    @Test func keepsTheNewestCapacityPlusOne() {
        var log = CommittedLog(capacity: 3)
        #expect(log.isEmpty && log.minZxid == nil && log.maxZxid == nil)
        for z in Int64(1)...10 { log.add(.init(zxid: z, payload: [UInt8(z)])) }
        #expect(log.proposals.map(\.zxid) == [7, 8, 9, 10])
        #expect(log.minZxid == 7 && log.maxZxid == 10 && log.count == 4)
        log.add(.init(zxid: 11, payload: []))
        #expect(log.proposals.map(\.zxid) == [8, 9, 10, 11])
        log.clear()
        #expect(log.isEmpty)
        log.add(.init(zxid: 20, payload: []))
        #expect(log.proposals.map(\.zxid) == [20])
    }
}
