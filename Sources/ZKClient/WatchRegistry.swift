// The client's record of the watches the server holds for it. The server drops
// them with the connection, so after a reconnect they are re-registered from
// here with setWatches2; the rules for adding and retiring entries follow the
// Java client's ZKWatchManager.
import ZKJute

/// What a request does to the watch record once its reply arrives.
enum WatchRegistration: Sendable {
    case exists(String)       // data watch if the node exists, exist watch if not
    case data(String)
    case children(String)
    case added(String, AddWatchMode)
    case removed(String, WatcherType)

    var path: String {
        switch self {
        case .exists(let p), .data(let p), .children(let p), .added(let p, _), .removed(let p, _): p
        }
    }

    /// `err` is the reply's error code; failed reads register nothing, except
    /// exists on a missing node, which the server keeps as a creation watch.
    /// Returns the client-local "watch removed" events to report.
    func apply(err: Int32, to registry: inout WatchRegistry) -> [EventType] {
        switch self {
        case .exists(let p):
            if err == KeeperCode.ok.rawValue { registry.data.insert(p) }
            else if err == KeeperCode.noNode.rawValue { registry.exist.insert(p) }
        case .data(let p):
            if err == KeeperCode.ok.rawValue { registry.data.insert(p) }
        case .children(let p):
            if err == KeeperCode.ok.rawValue { registry.child.insert(p) }
        case .added(let p, let mode):
            guard err == KeeperCode.ok.rawValue else { return [] }
            switch mode {
            case .persistent: registry.persistent.insert(p)
            case .persistentRecursive: registry.persistentRecursive.insert(p)
            }
        case .removed(let p, let type):
            guard err == KeeperCode.ok.rawValue else { return [] }
            return registry.removed(p, type: type)
        }
        return []
    }
}

struct WatchRegistry: Sendable {
    var data: Set<String> = []
    var exist: Set<String> = []
    var child: Set<String> = []
    var persistent: Set<String> = []
    var persistentRecursive: Set<String> = []

    var isEmpty: Bool {
        data.isEmpty && exist.isEmpty && child.isEmpty && persistent.isEmpty && persistentRecursive.isEmpty
    }

    /// One-shot watches are spent by the event that fires them; persistent ones stay.
    mutating func fired(_ event: WatchedEvent) {
        guard let path = event.path else { return }
        switch event.type {
        case .nodeCreated, .nodeDataChanged:
            data.remove(path); exist.remove(path)
        case .nodeChildrenChanged:
            child.remove(path)
        case .nodeDeleted:
            data.remove(path); exist.remove(path); child.remove(path)
        default:
            break
        }
    }

    /// Forgets what a successful removeWatches took away on the server and
    /// returns the local "watch removed" events the Java client reports for it.
    mutating func removed(_ path: String, type: WatcherType) -> [EventType] {
        var events: [EventType] = []
        if type == .data || type == .any {
            let hadData = data.remove(path) != nil
            let hadExist = exist.remove(path) != nil
            if hadData || hadExist { events.append(.dataWatchRemoved) }
        }
        if type == .children || type == .any, child.remove(path) != nil { events.append(.childWatchRemoved) }
        if type == .any {
            let hadPersistent = persistent.remove(path) != nil
            let hadRecursive = persistentRecursive.remove(path) != nil
            if hadPersistent || hadRecursive { events.append(.persistentWatchRemoved) }
        }
        return events
    }

    /// The Java client's limit on path characters per setWatches packet.
    static let maxBatchChars = 128 * 1024

    /// setWatches2 records covering every watch, split so that no batch carries
    /// much more than `maxBatchChars` of paths.
    func setWatches(relativeZxid: Int64) -> [SetWatches2] {
        var batches: [SetWatches2] = []
        var current = SetWatches2(relativeZxid: relativeZxid, dataWatches: [], existWatches: [], childWatches: [],
                                  persistentWatches: [], persistentRecursiveWatches: [])
        var chars = 0
        let lists: [(Set<String>, WritableKeyPath<SetWatches2, [String]>)] = [
            (data, \.dataWatches), (exist, \.existWatches), (child, \.childWatches),
            (persistent, \.persistentWatches), (persistentRecursive, \.persistentRecursiveWatches),
        ]
        for (paths, key) in lists {
            for path in paths.sorted() {
                if chars > 0, chars + path.utf8.count > Self.maxBatchChars {
                    batches.append(current)
                    current = SetWatches2(relativeZxid: relativeZxid, dataWatches: [], existWatches: [], childWatches: [],
                                          persistentWatches: [], persistentRecursiveWatches: [])
                    chars = 0
                }
                current[keyPath: key].append(path)
                chars += path.utf8.count
            }
        }
        if chars > 0 { batches.append(current) }
        return batches
    }
}
