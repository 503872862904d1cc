// Shared helpers: a recording Watcher and shorthands for building trees.
import Testing
import ZKData
import ZKJute

/// A fake connection that records every event with the ACL passed along.
final class RecordingWatcher: Watcher, @unchecked Sendable {
    struct Received: Equatable {
        var type: EventType
        var path: String
        var acl: [ACL]?
    }
    let name: String
    private(set) var received: [Received] = []
    private(set) var states: [Int32] = []

    init(_ name: String = "w") { self.name = name }

    func process(_ event: WatcherEvent, acl: [ACL]?) {
        received.append(Received(type: EventType(rawValue: event.type)!, path: event.path, acl: acl))
        states.append(event.state)
    }

    /// (type, path) pairs, in order.
    var events: [Pair] { received.map { Pair($0.type, $0.path) } }

    func clear() { received.removeAll(); states.removeAll() }
}

struct Pair: Equatable, CustomStringConvertible {
    var type: EventType
    var path: String
    init(_ type: EventType, _ path: String) { self.type = type; self.path = path }
    var description: String { "(\(type), \(path))" }
}

let open = ACL.openACLUnsafe
let readOnlyWorld = ACL.readACLUnsafe
let digestACL = [ACL(perms: Perms.read | Perms.admin, id: Id(scheme: "digest", id: "u:x"))]
let ipACL = [ACL(perms: Perms.all, id: Id(scheme: "ip", id: "10.1.2.3"))]

extension DataTree {
    /// A persistent create with parentCVersion -1 ("parent's + 1").
    @discardableResult
    func create(_ path: String, _ data: [UInt8]? = nil, acl: [ACL] = ACL.openACLUnsafe, owner: Int64 = 0,
                zxid: Int64, time: Int64 = 1000) throws(KeeperCode) -> DataNode {
        try createNode(path, data: data, acl: acl, ephemeralOwner: owner, parentCVersion: -1, zxid: zxid, time: time)
    }

    func statOf(_ path: String) -> Stat? { getNode(path).map { stat(of: $0) } }
}

func hdr(zxid: Int64, clientId: Int64 = 0x42, cxid: Int32 = 7, time: Int64 = 5000, type: Int32) -> TxnHeader {
    TxnHeader(clientId: clientId, cxid: cxid, zxid: zxid, time: time, type: type)
}

/// Applies `txn` with a header of the matching type.
@discardableResult
func apply(_ tree: DataTree, _ txn: Txn, zxid: Int64, clientId: Int64 = 0x42, time: Int64 = 5000) -> ProcessTxnResult {
    tree.processTxn(hdr(zxid: zxid, clientId: clientId, time: time, type: txn.type), txn)
}

func createTxn(_ path: String, _ data: [UInt8]? = nil, acl: [ACL] = ACL.openACLUnsafe, ephemeral: Bool = false, pcv: Int32 = -1) -> CreateTxn {
    CreateTxn(path: path, data: data, acl: acl, ephemeral: ephemeral, parentCVersion: pcv)
}
