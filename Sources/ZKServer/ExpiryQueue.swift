// Elements expire in buckets of `expirationInterval` ms (tickTime): touching an
// element moves it to the bucket that ends after now+timeout, and the tracker
// thread polls one whole bucket per interval (ExpiryQueue in Apache ZooKeeper).
// Pure: the caller passes the monotonic clock in.

public struct ExpiryQueue<E: Hashable> {
    public let expirationInterval: Int64
    private var elemMap: [E: Int64] = [:]
    private var expiryMap: [Int64: Set<E>] = [:]
    public private(set) var nextExpirationTime: Int64

    public init(expirationInterval: Int64, now: Int64) {
        self.expirationInterval = expirationInterval
        self.nextExpirationTime = 0
        self.nextExpirationTime = roundToNextInterval(now)
    }

    public func roundToNextInterval(_ time: Int64) -> Int64 {
        (time / expirationInterval + 1) * expirationInterval
    }

    /// Moves `elem` to the bucket for now+timeout; returns the new expiry time,
    /// or nil when it was already in that bucket.
    @discardableResult
    public mutating func update(_ elem: E, timeout: Int64, now: Int64) -> Int64? {
        let prev = elemMap[elem]
        let newTime = roundToNextInterval(now + timeout)
        if prev == newTime { return nil }
        expiryMap[newTime, default: []].insert(elem)
        elemMap[elem] = newTime
        if let prev {
            expiryMap[prev]?.remove(elem)
            if expiryMap[prev]?.isEmpty == true { expiryMap[prev] = nil }
        }
        return newTime
    }

    @discardableResult
    public mutating func remove(_ elem: E) -> Int64? {
        guard let t = elemMap.removeValue(forKey: elem) else { return nil }
        expiryMap[t]?.remove(elem)
        if expiryMap[t]?.isEmpty == true { expiryMap[t] = nil }
        return t
    }

    /// The expired bucket, once its time has come; empty before that.
    public mutating func poll(now: Int64) -> Set<E> {
        guard now >= nextExpirationTime else { return [] }
        let t = nextExpirationTime
        nextExpirationTime += expirationInterval
        let set = expiryMap.removeValue(forKey: t) ?? []
        for e in set { elemMap[e] = nil }
        return set
    }

    public func waitTime(now: Int64) -> Int64 { now < nextExpirationTime ? nextExpirationTime - now : 0 }

    public func expiry(of elem: E) -> Int64? { elemMap[elem] }

    /// Buckets in time order, for the `dump` command.
    public var buckets: [(time: Int64, elements: Set<E>)] {
        expiryMap.keys.sorted().map { ($0, expiryMap[$0]!) }
    }

    public var count: Int { elemMap.count }
}
