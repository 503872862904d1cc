// The AdminServer's JSON, laid out as Apache's (Jackson's default pretty
// printer): `"key" : value`, objects one field a line indented two spaces
// per level, arrays inline as `[ a, b ]` with objects inside opening on the
// same line, `[ ]` and `{ }` when empty. Fields keep the order they were
// added in. Scripts that diff the output against Apache's see the same shape.
import Foundation

public indirect enum AdminJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([AdminJSON])
    case object([(String, AdminJSON)])

    public static func == (a: AdminJSON, b: AdminJSON) -> Bool { a.rendered() == b.rendered() }

    public static func int(_ v: Int) -> AdminJSON { .int(Int64(v)) }

    public func rendered() -> String {
        var out = ""
        write(to: &out, level: 0)
        return out
    }

    private func write(to out: inout String, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += Self.javaDouble(d)
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[ ]"; return }
            out += "[ "
            for (i, v) in items.enumerated() {
                if i > 0 { out += ", " }
                v.write(to: &out, level: level)
            }
            out += " ]"
        case .object(let fields):
            guard !fields.isEmpty else { out += "{ }"; return }
            let pad = String(repeating: "  ", count: level + 1)
            out += "{\n"
            for (i, (k, v)) in fields.enumerated() {
                out += pad
                Self.quote(k, into: &out)
                out += " : "
                v.write(to: &out, level: level + 1)
                out += i == fields.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: level) + "}"
        }
    }

    /// Java's Double.toString for the values we report: 0.0, 2.2222, 1.0E-4.
    static func javaDouble(_ d: Double) -> String {
        if d.isNaN { return "\"NaN\"" }
        if d == d.rounded() && abs(d) < 1e7 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += String(format: "\\u%04X", c.value)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
