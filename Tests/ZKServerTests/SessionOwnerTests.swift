// Session ownership: in an ensemble a session's requests must come through
// the server it is connected to; standalone servers never check.
import Testing
import ZKJute
@testable import ZKServer

final class NoExpiry: SessionExpirer, @unchecked Sendable {
    func expire(sessionId: Int64, timeout: Int32) {}
}

@Suite struct SessionOwnerTests {
    @Test func firstOwnerSticksOthersGetSessionMoved() throws {
        let expirer = NoExpiry()
        let t = SessionTracker(tickTime: 2000, serverId: 1, expirer: expirer)
        let a = NoExpiry(), b = NoExpiry()
        let id = t.createSession(timeout: 30000)
        try t.checkSession(id)                                   // standalone: no owner
        try t.checkSession(id, owner: ObjectIdentifier(a))       // first owner taken
        try t.checkSession(id, owner: ObjectIdentifier(a))
        #expect(throws: KeeperCode.sessionMoved) { try t.checkSession(id, owner: ObjectIdentifier(b)) }
        try t.setOwner(id, owner: ObjectIdentifier(b))           // the client reconnected through b
        try t.checkSession(id, owner: ObjectIdentifier(b))
        #expect(throws: KeeperCode.sessionMoved) { try t.checkSession(id, owner: ObjectIdentifier(a)) }
        t.setSessionClosing(id)
        #expect(throws: KeeperCode.sessionExpired) { try t.setOwner(id, owner: ObjectIdentifier(a)) }
        #expect(throws: KeeperCode.unknownSession) { try t.checkSession(id + 1, owner: ObjectIdentifier(a)) }
    }
}
