// One watch table (data or child) keyed by path, with each watcher's mode per
// path: standard one-shot, persistent, or persistent recursive (WatchManager and
// WatcherModeManager in Apache ZooKeeper). Firing calls Watcher.process, which
// only queues the event on the watcher's connection.
import ZKJute

/// Something that receives watch events: a client connection.
public protocol Watcher: AnyObject, Sendable {
    /// `acl` is the ACL of the node the event is about (the parent's for
    /// NodeChildrenChanged); the watcher drops events it may not read. nil = unfiltered.
    func process(_ event: WatcherEvent, acl: [ACL]?)
}

public enum WatcherMode: Sendable, Equatable {
    case standard
    case persistent
    case persistentRecursive

    public var isPersistent: Bool { self != .standard }
    public var isRecursive: Bool { self == .persistentRecursive }
}

public struct WatchManager {
    private struct Entry {
        let watcher: any Watcher
        var paths: [String: WatcherMode] = [:]
    }
    /// path -> watchers registered there (by identity)
    private var watchTable: [String: Set<ObjectIdentifier>] = [:]
    /// watcher -> its paths and the mode at each
    private var entries: [ObjectIdentifier: Entry] = [:]
    private var recursiveWatchQty = 0

    public init() {}

    /// Adds or re-moded a watch. Returns true if the path was new for this watcher.
    @discardableResult
    public mutating func addWatch(_ path: String, _ watcher: any Watcher, mode: WatcherMode = .standard) -> Bool {
        let id = ObjectIdentifier(watcher)
        watchTable[path, default: []].insert(id)
        var e = entries[id] ?? Entry(watcher: watcher)
        let old = e.paths[path]
        if old?.isRecursive == true { recursiveWatchQty -= 1 }
        if mode.isRecursive { recursiveWatchQty += 1 }
        e.paths[path] = mode
        entries[id] = e
        return old == nil
    }

    /// Fires the watches for `path` and returns who was triggered, so a second
    /// table can suppress duplicates (NodeDeleted goes to data and child watchers once).
    @discardableResult
    public mutating func triggerWatch(_ path: String, _ type: EventType, acl: [ACL]?, suppress: Set<ObjectIdentifier> = []) -> Set<ObjectIdentifier> {
        var triggered: [any Watcher] = []
        var seen = Set<ObjectIdentifier>()
        var localPath = path
        var atParent = false
        while true {
            if let ids = watchTable[localPath] {
                var remaining = ids
                for id in ids {
                    guard var e = entries[id], let mode = e.paths[localPath] else { continue }
                    if mode.isRecursive {
                        if type != .nodeChildrenChanged, seen.insert(id).inserted { triggered.append(e.watcher) }
                    } else if !atParent {
                        if seen.insert(id).inserted { triggered.append(e.watcher) }
                        if !mode.isPersistent {
                            remaining.remove(id)
                            e.paths[localPath] = nil
                            entries[id] = e.paths.isEmpty ? nil : e
                        }
                    }
                }
                watchTable[localPath] = remaining.isEmpty ? nil : remaining
            }
            // Parents matter only to recursive watches.
            guard recursiveWatchQty > 0, localPath != "/" else { break }
            localPath = PathUtils.parent(of: localPath)
            if localPath.isEmpty { break }
            atParent = true
        }
        let event = WatcherEvent(type: type.rawValue, state: KeeperState.syncConnected.rawValue, path: path)
        for w in triggered where !suppress.contains(ObjectIdentifier(w)) {
            w.process(event, acl: acl)
        }
        return seen
    }

    /// Apache's rule: true if any watch is on `path` at all, or this watcher
    /// has a recursive watch there.
    public func containsWatcher(_ path: String, _ watcher: any Watcher) -> Bool {
        if watchTable[path] != nil { return true }
        return entries[ObjectIdentifier(watcher)]?.paths[path]?.isRecursive == true
    }

    public mutating func removeWatcher(_ path: String, _ watcher: any Watcher) -> Bool {
        let id = ObjectIdentifier(watcher)
        guard var e = entries[id], let mode = e.paths.removeValue(forKey: path) else { return false }
        if mode.isRecursive { recursiveWatchQty -= 1 }
        entries[id] = e.paths.isEmpty ? nil : e
        guard var ids = watchTable[path], ids.remove(id) != nil else { return false }
        watchTable[path] = ids.isEmpty ? nil : ids
        return true
    }

    /// Drops every watch of a closed connection.
    public mutating func removeWatcher(_ watcher: any Watcher) {
        let id = ObjectIdentifier(watcher)
        guard let e = entries.removeValue(forKey: id) else { return }
        for (path, mode) in e.paths {
            if mode.isRecursive { recursiveWatchQty -= 1 }
            if var ids = watchTable[path] {
                ids.remove(id)
                watchTable[path] = ids.isEmpty ? nil : ids
            }
        }
    }

    public var watchCount: Int { watchTable.values.reduce(0) { $0 + $1.count } }
    public var pathCount: Int { watchTable.count }
    public var watcherCount: Int { entries.count }

    /// For wchc: each watcher with its paths.
    public func pathsByWatcher() -> [(any Watcher, [String])] {
        entries.values.map { ($0.watcher, Array($0.paths.keys)) }
    }

    /// For wchp: each path with its watchers.
    public func watchersByPath() -> [(String, [any Watcher])] {
        watchTable.map { path, ids in (path, ids.compactMap { entries[$0]?.watcher }) }
    }
}
