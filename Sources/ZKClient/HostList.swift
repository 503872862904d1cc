// Parses the Java-style connect string "host:port,host:port" into the host list
// the client rotates through when it has to reconnect.
import ZKJute

enum HostList {
    static let defaultPort = 2181

    /// Accepts "h", "h:p" and "[v6]:p" entries. A chroot suffix ("/app") is not
    /// supported, so it is rejected rather than silently ignored.
    static func parse(_ connectString: String) throws(KeeperCode) -> [(host: String, port: Int)] {
        if connectString.contains("/") { throw .badArguments }
        var hosts: [(host: String, port: Int)] = []
        for raw in connectString.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: " ")
            if entry.isEmpty { continue }
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                let host = String(entry[entry.index(after: entry.startIndex)..<close])
                let rest = entry[entry.index(after: close)...]
                if rest.isEmpty { hosts.append((host, defaultPort)); continue }
                guard rest.first == ":", let port = Int(rest.dropFirst()) else { throw .badArguments }
                hosts.append((host, port))
            } else if let colon = entry.lastIndex(of: ":") {
                guard let port = Int(entry[entry.index(after: colon)...]) else { throw .badArguments }
                hosts.append((String(entry[..<colon]), port))
            } else {
                hosts.append((entry, defaultPort))
            }
        }
        if hosts.isEmpty { throw .badArguments }
        return hosts
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
