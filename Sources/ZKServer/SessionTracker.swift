// Sessions of a standalone server: ids, timeouts, the closing flag and expiry
// by tickTime buckets on the `SessionTracker` thread (SessionTrackerImpl in
// Apache ZooKeeper). Expiry hands the session to the expirer, which submits a
// closeSession through the chain.
import Foundation
import NIOConcurrencyHelpers
import ZKJute

public protocol SessionExpirer: AnyObject, Sendable {
    func expire(sessionId: Int64, timeout: Int32)
}

public final class SessionTracker: @unchecked Sendable {
    public struct Session: Sendable {
        public let id: Int64
        public var timeout: Int32
        public var isClosing = false
        /// The connection (a learner, or the leader itself) the session's
        /// requests must come through; nil until one is seen.
        public var owner: ObjectIdentifier? = nil
    }

    // everything below is guarded by `cond`
    private let cond = NSCondition()
    private var sessions: [Int64: Session] = [:]
    private var expiryQueue: ExpiryQueue<Int64>
    private var nextSessionId: Int64
    private var running = true
    private weak var expirer: (any SessionExpirer)?
    private let tickTime: Int64

    public init(tickTime: Int, serverId: Int64, expirer: any SessionExpirer) {
        self.tickTime = Int64(tickTime)
        let now = Clock.monotonicMillis()
        expiryQueue = ExpiryQueue(expirationInterval: Int64(tickTime), now: now)
        nextSessionId = SessionTracker.initialSessionId(serverId: serverId, now: now)
        self.expirer = expirer
    }

    /// Top byte: server id; then the low 40 bits of the clock; low 16 bits count.
    public static func initialSessionId(serverId: Int64, now: Int64) -> Int64 {
        var id = Int64(bitPattern: UInt64(bitPattern: now << 24) >> 8) | (serverId << 56)
        if id == Int64.min { id += 1 }
        return id
    }

    public func start() {
        ZKThread.start(name: "SessionTracker") { [self] in run() }
    }

    public func shutdown() {
        cond.lock(); running = false; cond.broadcast(); cond.unlock()
    }

    private func run() {
        cond.lock()
        while running {
            let wait = expiryQueue.waitTime(now: Clock.monotonicMillis())
            if wait > 0 {
                _ = cond.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1000))
                continue
            }
            let expired = expiryQueue.poll(now: Clock.monotonicMillis())
            var toExpire: [Session] = []
            for id in expired {
                guard var s = sessions[id] else { continue }
                s.isClosing = true
                sessions[id] = s
                toExpire.append(s)
            }
            cond.unlock()
            for s in toExpire { expirer?.expire(sessionId: s.id, timeout: s.timeout) }
            cond.lock()
        }
        cond.unlock()
    }

    public func createSession(timeout: Int32) -> Int64 {
        cond.lock(); defer { cond.unlock() }
        let id = nextSessionId
        nextSessionId += 1
        trackLocked(id, timeout)
        return id
    }

    private func trackLocked(_ id: Int64, _ timeout: Int32) {
        if sessions[id] == nil { sessions[id] = Session(id: id, timeout: timeout) }
        touchLocked(id, timeout)
    }

    @discardableResult
    private func touchLocked(_ id: Int64, _ timeout: Int32) -> Bool {
        guard let s = sessions[id], !s.isClosing else { return false }
        expiryQueue.update(id, timeout: Int64(timeout), now: Clock.monotonicMillis())
        return true
    }

    public func trackSession(_ id: Int64, timeout: Int32) {
        cond.lock(); defer { cond.unlock() }
        trackLocked(id, timeout)
    }

    /// A committed createSession (also on replay): make sure the session is known.
    public func commitSession(_ id: Int64, timeout: Int32) {
        trackSession(id, timeout: timeout)
    }

    /// False for unknown or closing sessions: their packets are dropped.
    public func touchSession(_ id: Int64, timeout: Int32) -> Bool {
        cond.lock(); defer { cond.unlock() }
        return touchLocked(id, timeout)
    }

    public func removeSession(_ id: Int64) {
        cond.lock(); defer { cond.unlock() }
        sessions[id] = nil
        expiryQueue.remove(id)
    }

    public func setSessionClosing(_ id: Int64) {
        cond.lock(); defer { cond.unlock() }
        sessions[id]?.isClosing = true
    }

    /// SESSIONEXPIRED if closing, UNKNOWNSESSION if never seen. With an
    /// owner (ensembles), the first one seen sticks and a request arriving
    /// through another gets SESSIONMOVED (SessionTrackerImpl.checkSession);
    /// a standalone server passes none.
    public func checkSession(_ id: Int64, owner: ObjectIdentifier? = nil) throws(KeeperCode) {
        cond.lock(); defer { cond.unlock() }
        guard var s = sessions[id] else { throw .unknownSession }
        if s.isClosing { throw .sessionExpired }
        guard let owner else { return }
        if s.owner == nil {
            s.owner = owner
            sessions[id] = s
        } else if s.owner != owner {
            throw .sessionMoved
        }
    }

    /// A client moved its session here (revalidation): requests must now come this way.
    public func setOwner(_ id: Int64, owner: ObjectIdentifier?) throws(KeeperCode) {
        cond.lock(); defer { cond.unlock() }
        guard sessions[id] != nil, !sessions[id]!.isClosing else { throw .sessionExpired }
        sessions[id]!.owner = owner
    }

    public func timeout(of id: Int64) -> Int32? {
        cond.lock(); defer { cond.unlock() }
        return sessions[id]?.timeout
    }

    public var count: Int {
        cond.lock(); defer { cond.unlock() }
        return sessions.count
    }

    public func allSessions() -> [Session] {
        cond.lock(); defer { cond.unlock() }
        return Array(sessions.values)
    }

    /// Expiry buckets (monotonic ms) with their sessions, for `dump`.
    public func expiryBuckets() -> [(time: Int64, sessions: [Int64])] {
        cond.lock(); defer { cond.unlock() }
        return expiryQueue.buckets.map { ($0.time, $0.elements.sorted()) }
    }
}
