// Session ids and passwords must match Apache's so sessions move between servers.
import Testing
@testable import ZKServer

@Suite struct SessionPasswordTests {
    private func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: [
        (Int64(bitPattern: 0x0100_0005_7b75_0000), "41d427ba3af728e2872b08f7131bac4d"),
        (Int64(bitPattern: 0x0100_0005_7b75_0001), "54f521bada4208277c6e6f22e7a3c01a"),
        (Int64(bitPattern: 0x0100_0000_0000_0000), "f22acd4a97e69d6d20a49bb638eadb38"),
        (Int64(1), "054cc74a37327db215e702e20c73f005"),
    ])
    func passwordVectors(id: Int64, expected: String) {
        #expect(hex(SessionPassword.generate(id)) == expected)
    }

    @Test func initialSessionIdLayout() {
        let id = SessionTracker.initialSessionId(serverId: 1, now: 0x57b75)
        #expect(id == Int64(bitPattern: 0x0100_0005_7b75_0000))
        // the top byte is the server id even when the clock has more than 40 bits
        let big = SessionTracker.initialSessionId(serverId: 3, now: 0x7FFF_FFFF_FFFF)
        #expect(big >> 56 == 3)
    }

    @Test func digestIds() {
        // base64(SHA1("u:p")), computed independently with Python's hashlib
        #expect(AuthScheme.digest("u:p") == "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=")
        #expect(AuthScheme.digest("super:secret") == "super:lK75jTNcA+U9vtVEw5vB51mj/w4=")
    }
}
