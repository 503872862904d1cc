// Text renderings shared by the dump commands: hex ids, UTC timestamps, ACL
// lists and short data previews. Kept free of I/O so tests can pin the exact
// output an operator (or a script grepping it) sees.
import ZKJute

enum Format {
    /// `0x` + lower-case hex of the 64-bit pattern, no padding (as Apache prints
    /// session ids and zxids), so negative values such as a container owner read
    /// as `0x8000000000000000` rather than `-0x…`.
    static func hex(_ v: Int64) -> String { "0x" + String(UInt64(bitPattern: v), radix: 16) }

    /// A cxid is an int on the wire; -1/-2 style xids should not sign-extend to 16 digits.
    static func hex(_ v: Int32) -> String { "0x" + String(UInt32(bitPattern: v), radix: 16) }

    /// Milliseconds since the epoch as ISO-8601 UTC with milliseconds. Done by
    /// hand (civil-from-days) so the output never depends on locale or time zone.
    static func isoTime(_ ms: Int64) -> String {
        let (secs, milli) = ms.quotientAndRemainder(dividingBy: 1000)
        var s = secs, m = milli
        if m < 0 { m += 1000; s -= 1 }
        var days = s / 86400
        var rem = s % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        // Howard Hinnant's days_from_civil inverse.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let mo = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (mo <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ w: Int) -> String {
            let t = String(v)
            return String(repeating: "0", count: max(0, w - t.count)) + t
        }
        return "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2)).\(pad(m, 3))Z"
    }

    /// Permission bits in zkCli's `cdrwa` spelling; unknown bits are appended in hex
    /// so a damaged or future value is visible rather than silently dropped.
    static func perms(_ p: Int32) -> String {
        var s = ""
        if p & Perms.create != 0 { s += "c" }
        if p & Perms.delete != 0 { s += "d" }
        if p & Perms.read != 0 { s += "r" }
        if p & Perms.write != 0 { s += "w" }
        if p & Perms.admin != 0 { s += "a" }
        let other = p & ~Perms.all
        if other != 0 { s += "+" + hex(other) }
        return s.isEmpty ? "-" : s
    }

    /// `[scheme:id:perms,...]`, the form zkCli's getAcl uses, on one line.
    static func acl(_ acl: [ACL]) -> String {
        "[" + acl.map { "\($0.id.scheme):\($0.id.id):\(perms($0.perms))" }.joined(separator: ",") + "]"
    }

    /// How long a data preview may be before only the length is shown.
    static let previewLimit = 40

    /// `null`, `[len]` or `[len]"text"` — text only when the bytes are short,
    /// valid UTF-8 and printable, because dumps are read in terminals and grep'd.
    static func data(_ d: [UInt8]?) -> String {
        guard let d else { return "null" }
        guard !d.isEmpty, d.count <= previewLimit, let s = String(validating: d, as: UTF8.self),
              s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f })
        else { return "[\(d.count)]" }
        return "[\(d.count)]" + quote(s)
    }

    /// A double-quoted string with quotes, backslashes and control characters
    /// escaped, so paths with odd bytes cannot break the one-line-per-record layout.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    out += "\\u{" + String(u.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A path as written: bare when it is plain, quoted when it holds spaces or
    /// control characters that would make the line ambiguous.
    static func path(_ p: String) -> String {
        p.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f && $0 != "\"" && $0 != "\\" }) && !p.isEmpty
            ? p : quote(p)
    }
}
