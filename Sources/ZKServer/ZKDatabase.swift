// The server's in-memory database: the DataTree behind one lock, shared by
// PrepRequestProcessor (reads what the tree holds), FinalRequestProcessor
// (applies txns, serves reads), the snapshot writer and the four-letter words.
import NIOConcurrencyHelpers
import ZKData
import ZKJute

public final class ZKDatabase: @unchecked Sendable {
    // `tree` is guarded by `lock`
    private let lock = NIOLock()
    private var tree: DataTree

    public init(extendedTypesEnabled: Bool) {
        tree = DataTree(extendedTypesEnabled: extendedTypesEnabled)
    }

    /// Installs the tree recovery built (before the server takes requests).
    public func replace(with newTree: DataTree) {
        lock.withLock { tree = newTree }
    }

    public func withTree<T, E: Error>(_ body: (DataTree) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(tree)
    }

    public var lastProcessedZxid: Int64 { withTree { $0.lastProcessedZxid } }
    public var nodeCount: Int { withTree { $0.nodeCount } }
}
