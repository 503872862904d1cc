// Znode path validation as the server applies it to create, setData, setACL and
// multi's check (PathUtils.validatePath in Apache ZooKeeper).

public enum PathUtils {
    /// nil when valid, else the reason (logged; the client just sees BADARGUMENTS).
    public static func invalidReason(_ path: String) -> String? {
        if path.isEmpty { return "Path length must be > 0" }
        guard path.utf8.first == UInt8(ascii: "/") else { return "Path must start with / character" }
        if path == "/" { return nil }
        if path.utf8.last == UInt8(ascii: "/") { return "Path must not end with / character" }
        var segment = ""
        func checkSegment(_ s: String) -> String? {
            if s.isEmpty { return "empty node name specified" }
            if s == "." || s == ".." { return "relative paths not allowed" }
            return nil
        }
        for scalar in path.unicodeScalars.dropFirst() {
            let v = scalar.value
            if v == 0 { return "null character not allowed" }
            // Java checks UTF-16 units: characters beyond the BMP are surrogate pairs, which are invalid.
            if (v > 0 && v <= 0x1f) || (v >= 0x7f && v <= 0x9f) || (v >= 0xd800 && v <= 0xf8ff) || (v >= 0xfff0 && v <= 0xffff) || v > 0xffff {
                return "invalid character"
            }
            if scalar == "/" {
                if let r = checkSegment(segment) { return r }
                segment = ""
            } else {
                segment.unicodeScalars.append(scalar)
            }
        }
        return checkSegment(segment)
    }

    public static func isValid(_ path: String) -> Bool { invalidReason(path) == nil }

    /// Parent path ("/" for top-level nodes, "" for the root itself).
    public static func parent(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "" }
        if i == path.startIndex { return path == "/" ? "" : "/" }
        return String(path[..<i])
    }

    /// Last component of the path.
    public static func name(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: i)...])
    }

    /// A child's full path ("/" + name under the root).
    public static func join(_ parent: String, _ name: String) -> String {
        parent == "/" ? "/" + name : parent + "/" + name
    }
}
