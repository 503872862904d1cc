// ExpiryQueue: bucket rounding, moving on touch, polling whole buckets.
import Testing
@testable import ZKServer

@Suite struct ExpiryQueueTests {
    @Test func roundsUpToTheNextTick() {
        let q = ExpiryQueue<Int>(expirationInterval: 2000, now: 10_500)
        #expect(q.nextExpirationTime == 12_000)
        #expect(q.roundToNextInterval(12_000) == 14_000)
        #expect(q.roundToNextInterval(13_999) == 14_000)
    }

    @Test func updateMovesBetweenBuckets() {
        var q = ExpiryQueue<Int>(expirationInterval: 1000, now: 0)
        #expect(q.update(1, timeout: 3000, now: 100) == 4000)
        #expect(q.update(1, timeout: 3000, now: 200) == nil)   // same bucket
        #expect(q.update(1, timeout: 3000, now: 1100) == 5000)
        #expect(q.expiry(of: 1) == 5000)
        #expect(q.buckets.map(\.time) == [5000])
        #expect(q.count == 1)
    }

    @Test func pollReturnsOneBucketPerInterval() {
        var q = ExpiryQueue<Int>(expirationInterval: 1000, now: 0)
        q.update(1, timeout: 1500, now: 0)   // 2000
        q.update(2, timeout: 2500, now: 0)   // 3000
        q.update(3, timeout: 2200, now: 0)   // 3000
        #expect(q.poll(now: 999).isEmpty)
        #expect(q.waitTime(now: 400) == 600)
        #expect(q.poll(now: 1000).isEmpty)   // bucket 1000 was empty
        #expect(q.poll(now: 1500).isEmpty)   // next bucket not due yet
        #expect(q.poll(now: 2000) == [1])
        #expect(q.poll(now: 3100) == [2, 3])
        #expect(q.count == 0)
        #expect(q.waitTime(now: 3100) == 900)
    }

    @Test func removedElementsDoNotExpire() {
        var q = ExpiryQueue<Int>(expirationInterval: 1000, now: 0)
        q.update(1, timeout: 500, now: 0)
        #expect(q.remove(1) == 1000)
        #expect(q.remove(1) == nil)
        #expect(q.poll(now: 1000).isEmpty)
    }

    @Test func touchedSessionSurvivesItsOldBucket() {
        var q = ExpiryQueue<Int64>(expirationInterval: 2000, now: 0)
        q.update(7, timeout: 4000, now: 0)      // 6000
        q.update(7, timeout: 4000, now: 3000)   // 8000
        #expect(q.poll(now: 2000).isEmpty)
        #expect(q.poll(now: 4000).isEmpty)
        #expect(q.poll(now: 6000).isEmpty)
        #expect(q.poll(now: 8000) == [7])
    }
}
