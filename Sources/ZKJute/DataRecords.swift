// org.apache.zookeeper.data records: identities, ACLs and the two Stat forms
// (Stat as clients see it, StatPersisted as the tree and the disk keep it).
import NIOCore

public struct Id: JuteRecord, Hashable {
    public var scheme: String
    public var id: String
    public init(scheme: String, id: String) { self.scheme = scheme; self.id = id }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        scheme = try b.readJuteNonNullString(); id = try b.readJuteNonNullString()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(scheme); b.writeJuteString(id) }

    public static let anyone = Id(scheme: "world", id: "anyone")
}

public struct ACL: JuteRecord, Hashable {
    public var perms: Int32
    public var id: Id
    public init(perms: Int32, id: Id) { self.perms = perms; self.id = id }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        perms = try b.readJuteInt(); id = try Id(from: &b)
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(perms); id.write(to: &b) }

    public static let openACLUnsafe = [ACL(perms: Perms.all, id: .anyone)]
    public static let readACLUnsafe = [ACL(perms: Perms.read, id: .anyone)]
    public static let creatorAllACL = [ACL(perms: Perms.all, id: Id(scheme: "auth", id: ""))]
}

public struct Stat: JuteRecord, Hashable {
    public var czxid: Int64 = 0
    public var mzxid: Int64 = 0
    public var ctime: Int64 = 0
    public var mtime: Int64 = 0
    public var version: Int32 = 0
    public var cversion: Int32 = 0
    public var aversion: Int32 = 0
    public var ephemeralOwner: Int64 = 0
    public var dataLength: Int32 = 0
    public var numChildren: Int32 = 0
    public var pzxid: Int64 = 0

    public init() {}
    public init(from b: inout ByteBuffer) throws(JuteError) {
        czxid = try b.readJuteLong(); mzxid = try b.readJuteLong()
        ctime = try b.readJuteLong(); mtime = try b.readJuteLong()
        version = try b.readJuteInt(); cversion = try b.readJuteInt(); aversion = try b.readJuteInt()
        ephemeralOwner = try b.readJuteLong()
        dataLength = try b.readJuteInt(); numChildren = try b.readJuteInt()
        pzxid = try b.readJuteLong()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteLong(czxid); b.writeJuteLong(mzxid)
        b.writeJuteLong(ctime); b.writeJuteLong(mtime)
        b.writeJuteInt(version); b.writeJuteInt(cversion); b.writeJuteInt(aversion)
        b.writeJuteLong(ephemeralOwner)
        b.writeJuteInt(dataLength); b.writeJuteInt(numChildren)
        b.writeJuteLong(pzxid)
    }
}

public struct StatPersisted: JuteRecord, Hashable {
    public var czxid: Int64 = 0
    public var mzxid: Int64 = 0
    public var ctime: Int64 = 0
    public var mtime: Int64 = 0
    public var version: Int32 = 0
    public var cversion: Int32 = 0
    public var aversion: Int32 = 0
    public var ephemeralOwner: Int64 = 0
    public var pzxid: Int64 = 0

    public init() {}
    public init(from b: inout ByteBuffer) throws(JuteError) {
        czxid = try b.readJuteLong(); mzxid = try b.readJuteLong()
        ctime = try b.readJuteLong(); mtime = try b.readJuteLong()
        version = try b.readJuteInt(); cversion = try b.readJuteInt(); aversion = try b.readJuteInt()
        ephemeralOwner = try b.readJuteLong()
        pzxid = try b.readJuteLong()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteLong(czxid); b.writeJuteLong(mzxid)
        b.writeJuteLong(ctime); b.writeJuteLong(mtime)
        b.writeJuteInt(version); b.writeJuteInt(cversion); b.writeJuteInt(aversion)
        b.writeJuteLong(ephemeralOwner)
        b.writeJuteLong(pzxid)
    }
}

public struct ClientInfo: JuteRecord, Hashable {
    public var authScheme: String
    public var user: String
    public init(authScheme: String, user: String) { self.authScheme = authScheme; self.user = user }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        authScheme = try b.readJuteNonNullString(); user = try b.readJuteNonNullString()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(authScheme); b.writeJuteString(user) }
}

extension ByteBuffer {
    public mutating func readJuteACLs() throws(JuteError) -> [ACL]? { try readJuteRecordVector(ACL.self) }
}
