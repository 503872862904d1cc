// ACL checks and ACL list fix-up as Apache's checkACL and fixupACL do them.
import Testing
import ZKJute
@testable import ZKServer

@Suite struct AuthSchemeTests {
    let ip = Id(scheme: "ip", id: "10.1.2.3")
    let digest = Id(scheme: "digest", id: "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=")

    @Test func worldAndEmptyAllowEverything() {
        #expect(AuthScheme.checkACL([], perm: Perms.admin, ids: []))
        #expect(AuthScheme.checkACL(ACL.openACLUnsafe, perm: Perms.delete, ids: []))
        #expect(!AuthScheme.checkACL(ACL.readACLUnsafe, perm: Perms.write, ids: [ip]))
    }

    @Test func superSeesEverything() {
        let acl = [ACL(perms: Perms.read, id: digest)]
        #expect(AuthScheme.checkACL(acl, perm: Perms.admin, ids: [Id(scheme: "super", id: "")]))
    }

    @Test func digestMatchesExactly() {
        let acl = [ACL(perms: Perms.read | Perms.write, id: digest)]
        #expect(AuthScheme.checkACL(acl, perm: Perms.write, ids: [ip, digest]))
        #expect(!AuthScheme.checkACL(acl, perm: Perms.admin, ids: [ip, digest]))
        #expect(!AuthScheme.checkACL(acl, perm: Perms.read, ids: [Id(scheme: "digest", id: "u:other")]))
    }

    @Test func ipMasks() {
        func allowed(_ aclId: String, _ remote: String) -> Bool {
            AuthScheme.checkACL([ACL(perms: Perms.read, id: Id(scheme: "ip", id: aclId))], perm: Perms.read,
                                ids: [Id(scheme: "ip", id: remote)])
        }
        #expect(allowed("10.1.2.3", "10.1.2.3"))
        #expect(!allowed("10.1.2.3", "10.1.2.4"))
        #expect(allowed("10.1.0.0/16", "10.1.200.7"))
        #expect(!allowed("10.1.0.0/16", "10.2.0.1"))
        #expect(allowed("10.1.2.0/23", "10.1.3.9"))
        #expect(!allowed("10.1.2.0/24", "10.1.3.9"))
        #expect(allowed("0.0.0.0/0", "192.168.1.1"))
    }

    @Test func validIds() {
        #expect(AuthScheme.isValid(scheme: "digest", id: "u:abc"))
        #expect(!AuthScheme.isValid(scheme: "digest", id: "u:"))
        #expect(!AuthScheme.isValid(scheme: "digest", id: "a:b:c"))
        #expect(AuthScheme.isValid(scheme: "ip", id: "1.2.3.4/32"))
        #expect(!AuthScheme.isValid(scheme: "ip", id: "1.2.3.4/33"))
        #expect(!AuthScheme.isValid(scheme: "ip", id: "1.2.3"))
        #expect(!AuthScheme.isValid(scheme: "world", id: "nobody"))
    }

    @Test func fixupExpandsAuthAndRejectsBadLists() throws {
        let auth = [ACL(perms: Perms.all, id: Id(scheme: "auth", id: ""))]
        #expect(try AuthScheme.fixupACL(auth, authInfo: [ip, digest]) == [ACL(perms: Perms.all, id: digest)])
        #expect(throws: KeeperCode.invalidACL) { try AuthScheme.fixupACL(auth, authInfo: [ip]) }
        #expect(throws: KeeperCode.invalidACL) { try AuthScheme.fixupACL([], authInfo: []) }
        #expect(throws: KeeperCode.invalidACL) {
            try AuthScheme.fixupACL([ACL(perms: Perms.all, id: Id(scheme: "world", id: "nobody"))], authInfo: [])
        }
        let dup = ACL.openACLUnsafe + ACL.openACLUnsafe
        #expect(try AuthScheme.fixupACL(dup, authInfo: []) == ACL.openACLUnsafe)
    }

    @Test func sequenceSuffixIsJavaPercent010d() {
        #expect(PrepRequestProcessor.sequenceSuffix(0) == "0000000000")
        #expect(PrepRequestProcessor.sequenceSuffix(42) == "0000000042")
        #expect(PrepRequestProcessor.sequenceSuffix(-1) == "-000000001")
        #expect(PrepRequestProcessor.sequenceSuffix(Int32.max) == "2147483647")
    }
}
