// The built-in auth schemes (world, ip, digest, super) and the ACL check
// (ServerAuthenticationProvider, ProviderRegistry and ZooKeeperServer.checkACL
// in Apache ZooKeeper). Pure functions over ids and ACL lists.
import Crypto
import Foundation
import ZKJute

public enum AuthScheme {
    /// `user:BASE64(SHA1("user:password"))`, the id a digest login produces.
    public static func digest(_ userPassword: String) -> String {
        let user = userPassword.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let sha = Insecure.SHA1.hash(data: Array(userPassword.utf8))
        return user + ":" + Data(sha).base64EncodedString()
    }

    /// Java's String.split drops trailing empty parts; digest ids need exactly two.
    static func javaSplitCount(_ s: String, _ sep: Character) -> Int {
        var parts = s.split(separator: sep, omittingEmptySubsequences: false)
        while let last = parts.last, last.isEmpty, parts.count > 0 { parts.removeLast() }
        return max(parts.count, s.isEmpty ? 1 : 0)
    }

    /// Providers the server knows; "world" and "super" are not providers.
    public static func hasProvider(_ scheme: String) -> Bool { scheme == "ip" || scheme == "digest" }

    /// Whether an ACL id is well formed for its scheme (provider.isValid).
    public static func isValid(scheme: String, id: String) -> Bool {
        switch scheme {
        case "digest": return javaSplitCount(id, ":") == 2
        case "ip":
            let parts = id.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let addr = ipv4Bytes(String(parts[0])) else { return false }
            if parts.count == 2 {
                guard let bits = Int32(parts[1]), bits >= 0, Int(bits) <= addr.count * 8 else { return false }
            }
            return true
        default: return false
        }
    }

    /// Ids a provider counts as "authenticated" for the `auth` ACL scheme.
    public static func isAuthenticated(_ scheme: String) -> Bool { scheme == "digest" }

    /// What whoAmI reports as the user for an id.
    public static func userName(scheme: String, id: String) -> String {
        switch scheme {
        case "digest": return id.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        case "ip": return id
        default: return ""
        }
    }

    static func ipv4Bytes(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard let v = Int(p), v >= 0, v <= 255 else { return nil }
            out.append(UInt8(v))
        }
        return out
    }

    static func matches(scheme: String, authId: String, aclId: String) -> Bool {
        switch scheme {
        case "digest": return authId == aclId
        case "ip":
            let parts = aclId.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let acl = ipv4Bytes(String(parts[0])), let remote = ipv4Bytes(authId) else { return false }
            var bits = 32
            if parts.count == 2 {
                guard let b = Int(parts[1]), b >= 0, b <= 32 else { return false }
                bits = b
            }
            for i in 0..<4 {
                let keep = max(0, min(8, bits - i * 8))
                let mask: UInt8 = keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
                if remote[i] & mask != acl[i] & mask { return false }
            }
            return true
        default: return false
        }
    }

    /// ZooKeeperServer.checkACL: empty ACL or a super id allows everything.
    public static func checkACL(_ acl: [ACL], perm: Int32, ids: [Id], skipACL: Bool = false) -> Bool {
        if skipACL || acl.isEmpty { return true }
        if ids.contains(where: { $0.scheme == "super" }) { return true }
        for a in acl where a.perms & perm != 0 {
            if a.id.scheme == "world" && a.id.id == "anyone" { return true }
            guard hasProvider(a.id.scheme) else { continue }
            for authId in ids where authId.scheme == a.id.scheme {
                if matches(scheme: a.id.scheme, authId: authId.id, aclId: a.id.id) { return true }
            }
        }
        return false
    }

    /// PrepRequestProcessor.fixupACL: drop duplicates, expand `auth`, reject bad ids.
    public static func fixupACL(_ acls: [ACL], authInfo: [Id]) throws(KeeperCode) -> [ACL] {
        var uniq: [ACL] = []
        for a in acls where !uniq.contains(a) { uniq.append(a) }
        guard !uniq.isEmpty else { throw .invalidACL }
        var out: [ACL] = []
        for a in uniq {
            if a.id.scheme == "world" && a.id.id == "anyone" {
                out.append(a)
            } else if a.id.scheme == "auth" {
                var valid = false
                for cid in authInfo where hasProvider(cid.scheme) && isAuthenticated(cid.scheme) {
                    valid = true
                    out.append(ACL(perms: a.perms, id: cid))
                }
                guard valid else { throw .invalidACL }
            } else {
                guard hasProvider(a.id.scheme), isValid(scheme: a.id.scheme, id: a.id.id) else { throw .invalidACL }
                out.append(a)
            }
        }
        return out
    }
}

/// The 16-byte session password every server derives from the session id:
/// java.util.Random seeded with id XOR a fixed secret (ZooKeeperServer.generatePasswd).
public enum SessionPassword {
    static let superSecret: Int64 = 0xB3415C00

    public static func generate(_ sessionId: Int64) -> [UInt8] {
        var state = UInt64(bitPattern: (sessionId ^ superSecret)) ^ 0x5DEECE66D
        state &= (1 << 48) - 1
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for _ in 0..<4 {
            state = (state &* 0x5DEECE66D &+ 0xB) & ((1 << 48) - 1)
            let r = UInt32(truncatingIfNeeded: state >> 16)
            out.append(UInt8(r & 0xff)); out.append(UInt8((r >> 8) & 0xff))
            out.append(UInt8((r >> 16) & 0xff)); out.append(UInt8((r >> 24) & 0xff))
        }
        return out
    }
}
