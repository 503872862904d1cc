// Shorthands for building multi/multiRead operations without spelling out the
// request records, choosing the sub-opcode the way the Java client's Op does.
import ZKJute

extension MultiOp {
    /// CONTAINER mode is sent as createContainer (19), as Java's Op.create does.
    public static func create(path: String, data: [UInt8]? = [], acl: [ACL] = ACL.openACLUnsafe,
                              mode: CreateMode = .persistent) -> MultiOp {
        let opcode = mode == .container ? OpCode.createContainer : OpCode.create
        return .create(CreateRequest(path: path, data: data, acl: acl, flags: mode.rawValue), opcode: opcode.rawValue)
    }

    public static func createTTL(path: String, data: [UInt8]? = [], acl: [ACL] = ACL.openACLUnsafe,
                                 mode: CreateMode = .persistentWithTTL, ttl: Int64) -> MultiOp {
        .createTTL(CreateTTLRequest(path: path, data: data, acl: acl, flags: mode.rawValue, ttl: ttl))
    }

    public static func delete(path: String, version: Int32 = -1) -> MultiOp {
        .delete(DeleteRequest(path: path, version: version))
    }

    public static func setData(path: String, data: [UInt8]?, version: Int32 = -1) -> MultiOp {
        .setData(SetDataRequest(path: path, data: data, version: version))
    }

    public static func check(path: String, version: Int32) -> MultiOp {
        .check(CheckVersionRequest(path: path, version: version))
    }
}
