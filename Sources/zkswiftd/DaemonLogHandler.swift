// The daemon's log: swift-log to stderr. Under systemd, stderr is a stream
// into the journal (JOURNAL_STREAM names it); there each line starts with
// the sd-daemon priority prefix ("<4>" for a warning) so `journalctl -p
// warning` filters by level, and the journal's own timestamp replaces ours.
import Foundation
import Logging

struct DaemonLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let journal: Bool

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// sd-daemon.h's SD_ERR ... SD_DEBUG for each swift-log level.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let meta = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line: String
        if journal {
            // journald reads a prefix per line: a multi-line message keeps its level throughout.
            let prefix = "<\(Self.priority(event.level))>"
            line = prefix + "\(label): \(event.message)\(meta)".replacingOccurrences(of: "\n", with: "\n" + prefix) + "\n"
        } else {
            line = "\(Self.timestamp()) \(event.level) \(label):\(meta) \(event.message)\n"
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    private static func timestamp() -> String {
        var t = time(nil)
        var tm = tm()
        localtime_r(&t, &tm)
        var buf = [Int8](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%S%z", &tm)
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when stderr is the journal stream systemd set up for this service,
    /// not just inherited from a parent that was (JOURNAL_STREAM is "dev:inode").
    static func stderrIsJournal(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let v = env["JOURNAL_STREAM"] else { return false }
        let parts = v.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(STDERR_FILENO, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }
}
