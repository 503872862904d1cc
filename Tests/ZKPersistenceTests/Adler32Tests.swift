// Adler-32 against published vectors and values computed with Python's
// zlib.adler32, including lengths around the 5552-byte reduction step.
import Testing
import ZKPersistence

@Suite struct Adler32Tests {
    @Test(arguments: [
        ("", 0x0000_0001),
        ("a", 0x0062_0062),
        ("abc", 0x024d_0127),
        ("Wikipedia", 0x11E6_0398),
        ("message digest", 0x2975_0586),
        ("abcdefghijklmnopqrstuvwxyz", 0x9086_0b20),
    ] as [(String, UInt32)])
    func knownStrings(_ s: String, _ expected: UInt32) {
        #expect(Adler32.checksum(Array(s.utf8)) == expected)
    }

    /// All-0xff runs make a and b grow fastest: these lengths straddle the
    /// point where the sums must be reduced before they overflow 32 bits.
    @Test(arguments: [
        (5552, 0xf18f_9b8c), (5553, 0x8e29_9c8b), (6000, 0xa497_59ea), (100_000, 0x149a_302c),
    ] as [(Int, UInt32)])
    func longRunsOfFF(_ n: Int, _ expected: UInt32) {
        #expect(Adler32.checksum([UInt8](repeating: 0xff, count: n)) == expected)
    }

    @Test func allByteValues() {
        let b = (0..<40).flatMap { _ in (0...255).map(UInt8.init) }
        #expect(Adler32.checksum(b) == 0xf475_ed1e)
    }

    /// Updating in pieces (as a snapshot is sealed while it is written) equals one pass.
    @Test func incrementalEqualsOneShot() {
        let b = (0..<20000).map { UInt8(($0 * 7 + 3) % 256) }
        #expect(Adler32.checksum(b) == 0x2800_e92b)
        #expect(Adler32.checksum(b[..<7777]) == 0xad82_1e55)
        for split in [0, 1, 5551, 5552, 5553, 7777, 19999, 20000] {
            var c = Adler32()
            c.update(b[..<split])
            c.update(b[split...])
            #expect(c.value == 0x2800_e92b, "split at \(split)")
        }
        var c = Adler32()
        for chunk in stride(from: 0, to: b.count, by: 1000) { c.update(b[chunk..<min(chunk + 1000, b.count)]) }
        #expect(c.value == 0x2800_e92b)
    }
}
