// org.apache.zookeeper.proto records: the client port's requests and replies,
// in the field order of zookeeper.jute.
import NIOCore

public struct ConnectRequest: JuteRecord, Equatable {
    public var protocolVersion: Int32 = 0
    public var lastZxidSeen: Int64 = 0
    public var timeOut: Int32 = 0
    public var sessionId: Int64 = 0
    public var passwd: [UInt8]? = nil
    public init(protocolVersion: Int32 = 0, lastZxidSeen: Int64 = 0, timeOut: Int32, sessionId: Int64 = 0, passwd: [UInt8]? = [UInt8](repeating: 0, count: 16)) {
        self.protocolVersion = protocolVersion; self.lastZxidSeen = lastZxidSeen
        self.timeOut = timeOut; self.sessionId = sessionId; self.passwd = passwd
    }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        protocolVersion = try b.readJuteInt(); lastZxidSeen = try b.readJuteLong()
        timeOut = try b.readJuteInt(); sessionId = try b.readJuteLong()
        passwd = try b.readJuteBuffer()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteInt(protocolVersion); b.writeJuteLong(lastZxidSeen)
        b.writeJuteInt(timeOut); b.writeJuteLong(sessionId); b.writeJuteBuffer(passwd)
    }
}

public struct ConnectResponse: JuteRecord, Equatable {
    public var protocolVersion: Int32 = 0
    public var timeOut: Int32
    public var sessionId: Int64
    public var passwd: [UInt8]?
    public init(protocolVersion: Int32 = 0, timeOut: Int32, sessionId: Int64, passwd: [UInt8]?) {
        self.protocolVersion = protocolVersion; self.timeOut = timeOut; self.sessionId = sessionId; self.passwd = passwd
    }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        protocolVersion = try b.readJuteInt(); timeOut = try b.readJuteInt()
        sessionId = try b.readJuteLong(); passwd = try b.readJuteBuffer()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteInt(protocolVersion); b.writeJuteInt(timeOut)
        b.writeJuteLong(sessionId); b.writeJuteBuffer(passwd)
    }
}

public struct RequestHeader: JuteRecord, Equatable {
    public var xid: Int32
    public var type: Int32
    public init(xid: Int32, type: Int32) { self.xid = xid; self.type = type }
    public init(from b: inout ByteBuffer) throws(JuteError) { xid = try b.readJuteInt(); type = try b.readJuteInt() }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(xid); b.writeJuteInt(type) }
}

public struct ReplyHeader: JuteRecord, Equatable {
    public var xid: Int32
    public var zxid: Int64
    public var err: Int32
    public init(xid: Int32, zxid: Int64, err: Int32) { self.xid = xid; self.zxid = zxid; self.err = err }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        xid = try b.readJuteInt(); zxid = try b.readJuteLong(); err = try b.readJuteInt()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(xid); b.writeJuteLong(zxid); b.writeJuteInt(err) }
}

public struct MultiHeader: JuteRecord, Equatable {
    public var type: Int32
    public var done: Bool
    public var err: Int32
    public init(type: Int32, done: Bool, err: Int32) { self.type = type; self.done = done; self.err = err }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        type = try b.readJuteInt(); done = try b.readJuteBool(); err = try b.readJuteInt()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(type); b.writeJuteBool(done); b.writeJuteInt(err) }
    public static let end = MultiHeader(type: -1, done: true, err: -1)
}

public struct AuthPacket: JuteRecord, Equatable {
    public var type: Int32
    public var scheme: String
    public var auth: [UInt8]?
    public init(type: Int32 = 0, scheme: String, auth: [UInt8]?) { self.type = type; self.scheme = scheme; self.auth = auth }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        type = try b.readJuteInt(); scheme = try b.readJuteNonNullString(); auth = try b.readJuteBuffer()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(type); b.writeJuteString(scheme); b.writeJuteBuffer(auth) }
}

public struct WatcherEvent: JuteRecord, Equatable {
    public var type: Int32
    public var state: Int32
    public var path: String
    public init(type: Int32, state: Int32, path: String) { self.type = type; self.state = state; self.path = path }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        type = try b.readJuteInt(); state = try b.readJuteInt(); path = try b.readJuteNonNullString()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(type); b.writeJuteInt(state); b.writeJuteString(path) }
}

public struct ErrorResponse: JuteRecord, Equatable {
    public var err: Int32
    public init(err: Int32) { self.err = err }
    public init(from b: inout ByteBuffer) throws(JuteError) { err = try b.readJuteInt() }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(err) }
}

public struct SetWatches: JuteRecord, Equatable {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]
    public init(relativeZxid: Int64, dataWatches: [String], existWatches: [String], childWatches: [String]) {
        self.relativeZxid = relativeZxid; self.dataWatches = dataWatches
        self.existWatches = existWatches; self.childWatches = childWatches
    }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        relativeZxid = try b.readJuteLong()
        dataWatches = try b.readWatchList()
        existWatches = try b.readWatchList()
        childWatches = try b.readWatchList()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteLong(relativeZxid)
        b.writeJuteStringVector(dataWatches); b.writeJuteStringVector(existWatches); b.writeJuteStringVector(childWatches)
    }
}

public struct SetWatches2: JuteRecord, Equatable {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]
    public var persistentWatches: [String]
    public var persistentRecursiveWatches: [String]
    public init(relativeZxid: Int64, dataWatches: [String], existWatches: [String], childWatches: [String],
                persistentWatches: [String], persistentRecursiveWatches: [String]) {
        self.relativeZxid = relativeZxid; self.dataWatches = dataWatches
        self.existWatches = existWatches; self.childWatches = childWatches
        self.persistentWatches = persistentWatches; self.persistentRecursiveWatches = persistentRecursiveWatches
    }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        relativeZxid = try b.readJuteLong()
        dataWatches = try b.readWatchList()
        existWatches = try b.readWatchList()
        childWatches = try b.readWatchList()
        persistentWatches = try b.readWatchList()
        persistentRecursiveWatches = try b.readWatchList()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteLong(relativeZxid)
        b.writeJuteStringVector(dataWatches); b.writeJuteStringVector(existWatches); b.writeJuteStringVector(childWatches)
        b.writeJuteStringVector(persistentWatches); b.writeJuteStringVector(persistentRecursiveWatches)
    }
}

public struct CreateRequest: JuteRecord, Equatable {
    public var path: String
    public var data: [UInt8]?
    public var acl: [ACL]
    public var flags: Int32
    public init(path: String, data: [UInt8]?, acl: [ACL], flags: Int32) {
        self.path = path; self.data = data; self.acl = acl; self.flags = flags
    }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        path = try b.readJuteNonNullString(); data = try b.readJuteBuffer()
        acl = try b.readJuteACLs() ?? []; flags = try b.readJuteInt()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteString(path); b.writeJuteBuffer(data); b.writeJuteRecordVector(acl); b.writeJuteInt(flags)
    }
}

public struct CreateTTLRequest: JuteRecord, Equatable {
    public var path: String
    public var data: [UInt8]?
    public var acl: [ACL]
    public var flags: Int32
    public var ttl: Int64
    public init(path: String, data: [UInt8]?, acl: [ACL], flags: Int32, ttl: Int64) {
        self.path = path; self.data = data; self.acl = acl; self.flags = flags; self.ttl = ttl
    }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        path = try b.readJuteNonNullString(); data = try b.readJuteBuffer()
        acl = try b.readJuteACLs() ?? []; flags = try b.readJuteInt(); ttl = try b.readJuteLong()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteString(path); b.writeJuteBuffer(data); b.writeJuteRecordVector(acl)
        b.writeJuteInt(flags); b.writeJuteLong(ttl)
    }
}

/// Records that hold one path and nothing else share one shape.
public struct PathRecord: JuteRecord, Equatable {
    public var path: String
    public init(path: String) { self.path = path }
    public init(from b: inout ByteBuffer) throws(JuteError) { path = try b.readJuteNonNullString() }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(path) }
}
public typealias CreateResponse = PathRecord
public typealias GetACLRequest = PathRecord
public typealias GetAllChildrenNumberRequest = PathRecord
public typealias SyncRequest = PathRecord
public typealias SyncResponse = PathRecord

public struct GetEphemeralsRequest: JuteRecord, Equatable {
    public var prefixPath: String?
    public init(prefixPath: String?) { self.prefixPath = prefixPath }
    public init(from b: inout ByteBuffer) throws(JuteError) { prefixPath = try b.readJuteString() }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(prefixPath) }
}

public struct Create2Response: JuteRecord, Equatable {
    public var path: String
    public var stat: Stat
    public init(path: String, stat: Stat) { self.path = path; self.stat = stat }
    public init(from b: inout ByteBuffer) throws(JuteError) { path = try b.readJuteNonNullString(); stat = try Stat(from: &b) }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(path); stat.write(to: &b) }
}

/// Path plus version: DeleteRequest and CheckVersionRequest.
public struct PathVersionRecord: JuteRecord, Equatable {
    public var path: String
    public var version: Int32
    public init(path: String, version: Int32) { self.path = path; self.version = version }
    public init(from b: inout ByteBuffer) throws(JuteError) { path = try b.readJuteNonNullString(); version = try b.readJuteInt() }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(path); b.writeJuteInt(version) }
}
public typealias DeleteRequest = PathVersionRecord
public typealias CheckVersionRequest = PathVersionRecord

/// Path plus watch flag: exists, getData, getChildren, getChildren2.
public struct PathWatchRecord: JuteRecord, Equatable {
    public var path: String
    public var watch: Bool
    public init(path: String, watch: Bool) { self.path = path; self.watch = watch }
    public init(from b: inout ByteBuffer) throws(JuteError) { path = try b.readJuteNonNullString(); watch = try b.readJuteBool() }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(path); b.writeJuteBool(watch) }
}
public typealias ExistsRequest = PathWatchRecord
public typealias GetDataRequest = PathWatchRecord
public typealias GetChildrenRequest = PathWatchRecord
public typealias GetChildren2Request = PathWatchRecord

/// A reply that is just a Stat: exists, setData, setACL.
public struct StatResponse: JuteRecord, Equatable {
    public var stat: Stat
    public init(stat: Stat) { self.stat = stat }
    public init(from b: inout ByteBuffer) throws(JuteError) { stat = try Stat(from: &b) }
    public func write(to b: inout ByteBuffer) { stat.write(to: &b) }
}
public typealias ExistsResponse = StatResponse
public typealias SetDataResponse = StatResponse
public typealias SetACLResponse = StatResponse

public struct GetDataResponse: JuteRecord, Equatable {
    public var data: [UInt8]?
    public var stat: Stat
    public init(data: [UInt8]?, stat: Stat) { self.data = data; self.stat = stat }
    public init(from b: inout ByteBuffer) throws(JuteError) { data = try b.readJuteBuffer(); stat = try Stat(from: &b) }
    public func write(to b: inout ByteBuffer) { b.writeJuteBuffer(data); stat.write(to: &b) }
}

public struct SetDataRequest: JuteRecord, Equatable {
    public var path: String
    public var data: [UInt8]?
    public var version: Int32
    public init(path: String, data: [UInt8]?, version: Int32) { self.path = path; self.data = data; self.version = version }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        path = try b.readJuteNonNullString(); data = try b.readJuteBuffer(); version = try b.readJuteInt()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(path); b.writeJuteBuffer(data); b.writeJuteInt(version) }
}

public struct GetACLResponse: JuteRecord, Equatable {
    public var acl: [ACL]
    public var stat: Stat
    public init(acl: [ACL], stat: Stat) { self.acl = acl; self.stat = stat }
    public init(from b: inout ByteBuffer) throws(JuteError) { acl = try b.readJuteACLs() ?? []; stat = try Stat(from: &b) }
    public func write(to b: inout ByteBuffer) { b.writeJuteRecordVector(acl); stat.write(to: &b) }
}

public struct SetACLRequest: JuteRecord, Equatable {
    public var path: String
    public var acl: [ACL]
    public var version: Int32
    public init(path: String, acl: [ACL], version: Int32) { self.path = path; self.acl = acl; self.version = version }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        path = try b.readJuteNonNullString(); acl = try b.readJuteACLs() ?? []; version = try b.readJuteInt()
    }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(path); b.writeJuteRecordVector(acl); b.writeJuteInt(version) }
}

public struct GetChildrenResponse: JuteRecord, Equatable {
    public var children: [String]
    public init(children: [String]) { self.children = children }
    public init(from b: inout ByteBuffer) throws(JuteError) { children = try b.readJuteStringVector() ?? [] }
    public func write(to b: inout ByteBuffer) { b.writeJuteStringVector(children) }
}

public struct GetChildren2Response: JuteRecord, Equatable {
    public var children: [String]
    public var stat: Stat
    public init(children: [String], stat: Stat) { self.children = children; self.stat = stat }
    public init(from b: inout ByteBuffer) throws(JuteError) { children = try b.readJuteStringVector() ?? []; stat = try Stat(from: &b) }
    public func write(to b: inout ByteBuffer) { b.writeJuteStringVector(children); stat.write(to: &b) }
}

public struct GetAllChildrenNumberResponse: JuteRecord, Equatable {
    public var totalNumber: Int32
    public init(totalNumber: Int32) { self.totalNumber = totalNumber }
    public init(from b: inout ByteBuffer) throws(JuteError) { totalNumber = try b.readJuteInt() }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(totalNumber) }
}

/// Path plus an int selector: CheckWatchesRequest, RemoveWatchesRequest (type) and AddWatchRequest (mode).
public struct PathTypeRecord: JuteRecord, Equatable {
    public var path: String
    public var type: Int32
    public init(path: String, type: Int32) { self.path = path; self.type = type }
    public init(from b: inout ByteBuffer) throws(JuteError) { path = try b.readJuteNonNullString(); type = try b.readJuteInt() }
    public func write(to b: inout ByteBuffer) { b.writeJuteString(path); b.writeJuteInt(type) }
}
public typealias CheckWatchesRequest = PathTypeRecord
public typealias RemoveWatchesRequest = PathTypeRecord
public typealias AddWatchRequest = PathTypeRecord

public struct GetEphemeralsResponse: JuteRecord, Equatable {
    public var ephemerals: [String]
    public init(ephemerals: [String]) { self.ephemerals = ephemerals }
    public init(from b: inout ByteBuffer) throws(JuteError) { ephemerals = try b.readJuteStringVector() ?? [] }
    public func write(to b: inout ByteBuffer) { b.writeJuteStringVector(ephemerals) }
}

public struct WhoAmIResponse: JuteRecord, Equatable {
    public var clientInfo: [ClientInfo]
    public init(clientInfo: [ClientInfo]) { self.clientInfo = clientInfo }
    public init(from b: inout ByteBuffer) throws(JuteError) { clientInfo = try b.readJuteRecordVector(ClientInfo.self) ?? [] }
    public func write(to b: inout ByteBuffer) { b.writeJuteRecordVector(clientInfo) }
}

public struct ReconfigRequest: JuteRecord, Equatable {
    public var joiningServers: String?
    public var leavingServers: String?
    public var newMembers: String?
    public var curConfigId: Int64
    public init(from b: inout ByteBuffer) throws(JuteError) {
        joiningServers = try b.readJuteString(); leavingServers = try b.readJuteString()
        newMembers = try b.readJuteString(); curConfigId = try b.readJuteLong()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteString(joiningServers); b.writeJuteString(leavingServers)
        b.writeJuteString(newMembers); b.writeJuteLong(curConfigId)
    }
}

/// GetSASLRequest / SetSASLResponse: one token buffer.
public struct SASLRecord: JuteRecord, Equatable {
    public var token: [UInt8]?
    public init(token: [UInt8]?) { self.token = token }
    public init(from b: inout ByteBuffer) throws(JuteError) { token = try b.readJuteBuffer() }
    public func write(to b: inout ByteBuffer) { b.writeJuteBuffer(token) }
}

extension ByteBuffer {
    /// setWatches lists must be present: Apache fails a null list with
    /// MARSHALLINGERROR when it walks it, so a null list is a bad record here.
    mutating func readWatchList() throws(JuteError) -> [String] {
        guard let v = try readJuteStringVector() else { throw .invalid("null watch list in setWatches") }
        return v
    }
}
