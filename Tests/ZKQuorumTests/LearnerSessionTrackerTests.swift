import Testing
@testable import ZKQuorum

@Suite struct LearnerSessionTrackerTests {
    @Test func idsCarryTheServerIdAndTouchesGoOutOnce() {
        let t = LearnerSessionTracker(serverId: 3, sessions: [0x0100_0000_0000_0007: 4000])
        let a = t.createSession(), b = t.createSession()
        #expect(a >> 56 == 3 && b == a + 1)
        #expect(!t.isGlobalSession(a))
        t.commitSession(a, timeout: 30000)
        #expect(t.isGlobalSession(a) && t.isGlobalSession(0x0100_0000_0000_0007))
        #expect(t.touchSession(0x0100_0000_0000_0007, timeout: 4000))
        let touched = t.snapshot()
        #expect(touched.map(\.id) == [0x0100_0000_0000_0007, a] && touched.map(\.timeout) == [4000, 30000])
        #expect(t.snapshot().isEmpty)
        t.removeSession(a)
        #expect(!t.isGlobalSession(a) && t.sessions.count == 1)
        // encoded as the PING reply carries them
        #expect(SessionTouches.encode(touched).count == 24)
    }
}
