// What a stored ephemeralOwner means: a session, a container marker or a TTL
// (EphemeralType in Apache ZooKeeper). TTL encodings only count when extended
// types are enabled, since otherwise the value is an ordinary session id.

public enum EphemeralType: Equatable, Sendable {
    case void
    case normal(sessionId: Int64)
    case container
    case ttl(ms: Int64)

    public static let containerOwner: Int64 = Int64.min
    public static let ttlMask: Int64 = Int64(bitPattern: 0xFF00_0000_0000_0000)
    public static let maxTTL: Int64 = 0xFF_FFFF_FFFF

    public static func of(owner: Int64, extendedTypesEnabled: Bool) -> EphemeralType {
        if owner == 0 { return .void }
        if owner == containerOwner { return .container }
        if extendedTypesEnabled && (owner & ttlMask) == ttlMask { return .ttl(ms: owner & maxTTL) }
        return .normal(sessionId: owner)
    }

    public static func ttlOwner(_ ttl: Int64) -> Int64 { ttlMask | ttl }

    /// The value clients see in Stat.ephemeralOwner: only real sessions show.
    public static func visibleOwner(_ owner: Int64, extendedTypesEnabled: Bool) -> Int64 {
        if case .normal = of(owner: owner, extendedTypesEnabled: extendedTypesEnabled) { return owner }
        return 0
    }
}
