import Testing
@testable import ZKServer

@Suite struct CommitQueueTests {
    final class R: CommitQueueItem, CustomStringConvertible {
        let sessionId: Int64
        let cxid: Int32
        init(_ s: Int64, _ c: Int32) { sessionId = s; cxid = c }
        var description: String { "\(sessionId):\(cxid)" }
    }

    @Test func readsOfOtherSessionsPassAPendingWrite() {
        var q = CommitQueue<R>()
        let w = R(1, 1), r1 = R(1, 2), r2 = R(2, 1)
        #expect(q.request(w, needsCommit: true).isEmpty)
        #expect(q.request(r1, needsCommit: false).isEmpty)   // behind its session's write
        #expect(q.request(r2, needsCommit: false).map(\.description) == ["2:1"])
        #expect(q.waitingSessions == 1)
        let (c, released) = q.commit(R(1, 1))
        guard case .local(let mine) = c else { Issue.record("the commit should answer the local write"); return }
        #expect(mine === w)
        #expect(released.map(\.description) == ["1:2"])
        #expect(q.waitingSessions == 0)
    }

    @Test func aReleasedRunStopsAtTheNextWrite() {
        var q = CommitQueue<R>()
        for (c, w) in [(1, true), (2, false), (3, true), (4, false)] { _ = q.request(R(7, Int32(c)), needsCommit: w) }
        #expect(q.commit(R(7, 1)).released.map(\.cxid) == [2])
        #expect(q.commit(R(7, 3)).released.map(\.cxid) == [4])
        #expect(q.waitingSessions == 0)
    }

    @Test func commitsFromElsewhereAreRemote() {
        var q = CommitQueue<R>()
        _ = q.request(R(1, 5), needsCommit: true)
        guard case .remote = q.commit(R(2, 5)).committed else { Issue.record("another session's txn is not ours"); return }
        guard case .remote = q.commit(R(1, 4)).committed else { Issue.record("a different cxid is not ours"); return }
        #expect(q.waitingSessions == 1)
        guard case .local = q.commit(R(1, 5)).committed else { Issue.record("ours"); return }
    }
}
