// The version the server reports. Clients such as kazoo and Curator gate
// features on the ZooKeeper version, so the Apache release we are compatible
// with comes first and zkswiftd's own name and version follow it.
import Foundation

public enum Version {
    public static let compatibleZooKeeper = "3.8.0"
    public static let zkswiftd = "0.1.0"

    /// e.g. `3.8.0-zkswiftd-0.1.0, built on 2026-11-22 10:00 UTC`
    public static let full: String = {
        var built = "unknown"
        let exe = CommandLine.arguments.first ?? ""
        if let attrs = try? FileManager.default.attributesOfItem(atPath: exe), let d = attrs[.modificationDate] as? Date {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
            built = f.string(from: d)
        }
        return "\(compatibleZooKeeper)-zkswiftd-\(zkswiftd), built on \(built)"
    }()
}
