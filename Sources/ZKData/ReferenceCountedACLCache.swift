// Nodes share ACL lists through numeric keys, as Apache's snapshot stores them:
// -1 is OPEN_ACL_UNSAFE for the built-in nodes only; every list a client sets
// gets a key counting up from 1 (even an open one), reference counted.
import ZKJute

public struct ReferenceCountedACLCache {
    public static let openUnsafeKey: Int64 = -1

    public private(set) var longKeyMap: [Int64: [ACL]] = [:]
    private var aclKeyMap: [[ACL]: Int64] = [:]
    private var referenceCounter: [Int64: Int] = [:]
    private var aclIndex: Int64 = 0

    public init() {}

    public mutating func convert(_ acl: [ACL]) -> Int64 {
        if let k = aclKeyMap[acl] { referenceCounter[k, default: 0] += 1; return k }
        aclIndex += 1
        longKeyMap[aclIndex] = acl
        aclKeyMap[acl] = aclIndex
        referenceCounter[aclIndex] = 1
        return aclIndex
    }

    public func acls(for key: Int64) -> [ACL] {
        if key == Self.openUnsafeKey { return ACL.openACLUnsafe }
        return longKeyMap[key] ?? []
    }

    public mutating func release(_ key: Int64) {
        guard key != Self.openUnsafeKey, let c = referenceCounter[key] else { return }
        if c <= 1 {
            referenceCounter[key] = nil
            if let acl = longKeyMap.removeValue(forKey: key) { aclKeyMap[acl] = nil }
        } else {
            referenceCounter[key] = c - 1
        }
    }

    public var count: Int { longKeyMap.count }

    /// Entries in key order, as a snapshot writes them.
    public var entries: [(key: Int64, acl: [ACL])] { longKeyMap.keys.sorted().map { ($0, longKeyMap[$0]!) } }

    /// Loads a snapshot's cache; references are counted as nodes are loaded.
    public mutating func load(_ entries: [(key: Int64, acl: [ACL])]) {
        longKeyMap = [:]; aclKeyMap = [:]; referenceCounter = [:]; aclIndex = 0
        for (k, acl) in entries {
            longKeyMap[k] = acl
            aclKeyMap[acl] = k
            referenceCounter[k] = 0
            aclIndex = max(aclIndex, k)
        }
    }

    /// A loaded node refers to `key`; false when the cache has no such entry.
    public mutating func addUsage(_ key: Int64) -> Bool {
        if key == Self.openUnsafeKey { return true }
        guard referenceCounter[key] != nil else { return false }
        referenceCounter[key]! += 1
        return true
    }

    /// Drops entries no node uses (after a load), as Apache does.
    public mutating func purgeUnused() {
        for (k, c) in referenceCounter where c <= 0 {
            referenceCounter[k] = nil
            if let acl = longKeyMap.removeValue(forKey: k) { aclKeyMap[acl] = nil }
        }
    }
}
