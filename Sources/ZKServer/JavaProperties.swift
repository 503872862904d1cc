// zoo.cfg is a Java properties file: `#`/`!` comments, `key=value`, `key: value`
// or `key value`, surrounding blanks trimmed, a trailing backslash continues the
// line, and backslash escapes. Parsed into ordered entries that keep their line.

public struct PropertyEntry: Equatable, Sendable {
    public var key: String
    public var value: String
    public var line: Int
}

public enum JavaProperties {
    public static func parse(_ text: String) -> [PropertyEntry] {
        var out: [PropertyEntry] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        var i = 0
        while i < lines.count {
            let startLine = i + 1
            var logical = String(lines[i]).trimmingLeadingBlanks()
            i += 1
            if logical.isEmpty || logical.first == "#" || logical.first == "!" { continue }
            // An odd number of trailing backslashes continues onto the next line.
            while endsWithContinuation(logical), i <= lines.count {
                logical.removeLast()
                if i < lines.count { logical += String(lines[i]).trimmingLeadingBlanks() }
                i += 1
            }
            out.append(split(logical, line: startLine))
        }
        return out
    }

    private static func endsWithContinuation(_ s: String) -> Bool {
        var n = 0
        for c in s.reversed() { if c == "\\" { n += 1 } else { break } }
        return n % 2 == 1
    }

    private static func split(_ s: String, line: Int) -> PropertyEntry {
        var key = ""
        var rest = Substring(s)
        var escaped = false
        while let c = rest.first {
            if escaped { key.append(unescape(c)); escaped = false; rest.removeFirst(); continue }
            if c == "\\" { escaped = true; rest.removeFirst(); continue }
            if c == "=" || c == ":" || c == " " || c == "\t" || c == "\u{0C}" { break }
            key.append(c)
            rest.removeFirst()
        }
        // separator: blanks, then at most one '=' or ':', then blanks
        rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
        if let c = rest.first, c == "=" || c == ":" { rest.removeFirst() }
        rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
        var value = ""
        escaped = false
        for c in rest {
            if escaped { value.append(unescape(c)); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            value.append(c)
        }
        // Java keeps trailing blanks in values, but every zoo.cfg reader trims them.
        while let l = value.last, l == " " || l == "\t" { value.removeLast() }
        return PropertyEntry(key: key, value: value, line: line)
    }

    private static func unescape(_ c: Character) -> Character {
        switch c {
        case "t": "\t"
        case "n": "\n"
        case "r": "\r"
        case "f": "\u{0C}"
        default: c
        }
    }
}

extension String {
    func trimmingLeadingBlanks() -> String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" })
    }
}
