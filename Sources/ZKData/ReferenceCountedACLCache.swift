// Nodes share ACL lists through numeric keys, as Apache's snapshot stores them:
// -1 is OPEN_ACL_UNSAFE, other keys count up from 1 and are reference counted.
import ZKJute

public struct ReferenceCountedACLCache {
    public static let openUnsafeKey: Int64 = -1

    public private(set) var longKeyMap: [Int64: [ACL]] = [:]
    private var aclKeyMap: [[ACL]: Int64] = [:]
    private var referenceCounter: [Int64: Int] = [:]
    private var aclIndex: Int64 = 0

    public init() {}

    public mutating func convert(_ acl: [ACL]) -> Int64 {
        if acl == ACL.openACLUnsafe { return Self.openUnsafeKey }
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
}
