// Where the tools write: a sink that is stdout/stderr for the real command
// and a pair of arrays in tests, so the exact lines and exit status of every
// command can be checked without spawning a process.
import Foundation

protocol Sink: AnyObject {
    func out(_ line: String)
    func err(_ line: String)
}

/// Buffers stdout (a 64 MiB log can hold a million records) and flushes it
/// before every stderr line so the two streams interleave in order.
final class StdSink: Sink {
    private var pending: [UInt8] = []
    func out(_ line: String) {
        pending.append(contentsOf: line.utf8)
        pending.append(0x0a)
        if pending.count >= 1 << 16 { flush() }
    }
    func err(_ line: String) {
        flush()
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
    func flush() {
        guard !pending.isEmpty else { return }
        FileHandle.standardOutput.write(Data(pending))
        pending.removeAll(keepingCapacity: true)
    }
    deinit { flush() }
}

final class CollectingSink: Sink {
    var stdout: [String] = []
    var stderr: [String] = []
    func out(_ line: String) { stdout.append(line) }
    func err(_ line: String) { stderr.append(line) }
}

/// Exit statuses shared by all subcommands (64 = usage error, set by ArgumentParser).
enum Status {
    static let ok: Int32 = 0
    /// The file was read and something in it is wrong.
    static let corrupt: Int32 = 1
    /// The file could not be read at all, or is of a kind we do not handle.
    static let unreadable: Int32 = 2
}

enum Files {
    /// nil when `path` is a readable regular file, else why not (for the error line).
    static func problem(_ path: String) -> String? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return "no such file" }
        if isDir.boolValue { return "is a directory" }
        guard FileManager.default.isReadableFile(atPath: path) else { return "permission denied" }
        return nil
    }
}
