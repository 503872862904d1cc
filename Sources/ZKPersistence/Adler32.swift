// Adler-32, the checksum of Apache ZooKeeper's log records and snapshot seals
// (java.util.zip.Adler32). Small enough to keep here rather than link zlib.

public struct Adler32: Sendable {
    private var a: UInt32 = 1
    private var b: UInt32 = 0
    private static let mod: UInt32 = 65521

    public init() {}

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        var a = self.a, b = self.b
        var n = 0
        for byte in bytes {
            a &+= UInt32(byte)
            b &+= a
            n += 1
            // 5552 is the most bytes that cannot overflow before reducing.
            if n == 5552 { a %= Self.mod; b %= Self.mod; n = 0 }
        }
        self.a = a % Self.mod
        self.b = b % Self.mod
    }

    public var value: UInt32 { (b << 16) | a }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c = Adler32()
        c.update(bytes)
        return c.value
    }
}
