// acceptedEpoch and currentEpoch in version-2 (disk-format.md §3): decimal
// text with no newline, replaced atomically (tmp, fsync, rename) so a crash
// leaves the old value or the new one. A quorum member's promises live here.
import Foundation
import NIOCore

public struct EpochFiles: Sendable {
    public static let accepted = "acceptedEpoch"
    public static let current = "currentEpoch"
    public let dir: String

    public init(snapDir: String) { dir = snapDir }

    private func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    /// nil when the file does not exist; a file that is there but unreadable is an error.
    public func read(_ name: String) throws(PersistenceError) -> Int64? {
        let p = path(name)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        guard let data = FileManager.default.contents(atPath: p), let text = String(data: data, encoding: .utf8) else {
            throw PersistenceError("cannot read \(p)")
        }
        let first = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let v = Int64(first) else { throw PersistenceError("\(p): \"\(first)\" is not an epoch") }
        return v
    }

    public func write(_ name: String, _ value: Int64) throws(PersistenceError) {
        try PosixFile.writeAtomically(ByteBuffer(string: String(value)), to: path(name), fsync: true)
    }

    /// The start-up rules of QuorumPeer.loadDataBase, given the epoch of the
    /// last zxid in the loaded database. Returns (acceptedEpoch, currentEpoch).
    public func loadOrCreate(dataEpoch e: Int64) throws(PersistenceError) -> (accepted: Int64, current: Int64) {
        var current: Int64
        if let c = try read(Self.current) {
            current = c
            if e > c {
                // A crash between taking a snapshot of the new epoch and recording the epoch.
                guard let tmp = try read(Self.current + ".tmp") else {
                    throw PersistenceError("The current epoch, \(c), is older than the last zxid's epoch, \(e)")
                }
                current = tmp
                try write(Self.current, current)
            }
        } else {
            current = e
            try write(Self.current, current)
        }
        var accepted: Int64
        if let a = try read(Self.accepted) {
            accepted = a
        } else {
            accepted = e
            try write(Self.accepted, accepted)
        }
        guard accepted >= current else {
            throw PersistenceError("The accepted epoch, \(accepted), is less than the current epoch, \(current)")
        }
        return (accepted, current)
    }
}
