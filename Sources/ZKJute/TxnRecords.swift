// org.apache.zookeeper.txn records: what the write pipeline produces and the
// DataTree applies (and what the transaction log will store). `Txn` is the
// typed union of the record bodies, keyed by the opcode in TxnHeader.type.
import NIOCore

public struct TxnHeader: JuteRecord, Equatable {
    public var clientId: Int64
    public var cxid: Int32
    public var zxid: Int64
    public var time: Int64
    public var type: Int32
    public init(clientId: Int64, cxid: Int32, zxid: Int64, time: Int64, type: Int32) {
        self.clientId = clientId; self.cxid = cxid; self.zxid = zxid; self.time = time; self.type = type
    }
    public init(from b: inout ByteBuffer) throws(JuteError) {
        clientId = try b.readJuteLong(); cxid = try b.readJuteInt(); zxid = try b.readJuteLong()
        time = try b.readJuteLong(); type = try b.readJuteInt()
    }
    public func write(to b: inout ByteBuffer) {
        b.writeJuteLong(clientId); b.writeJuteInt(cxid); b.writeJuteLong(zxid)
        b.writeJuteLong(time); b.writeJuteInt(type)
    }
}

public struct TxnDigest: JuteRecord, Equatable {
    public var version: Int32
    public var treeDigest: Int64
    public init(version: Int32, treeDigest: Int64) { self.version = version; self.treeDigest = treeDigest }
    public init(from b: inout ByteBuffer) throws(JuteError) { version = try b.readJuteInt(); treeDigest = try b.readJuteLong() }
    public func write(to b: inout ByteBuffer) { b.writeJuteInt(version); b.writeJuteLong(treeDigest) }
}

public struct CreateTxn: Equatable, Sendable {
    public var path: String
    public var data: [UInt8]?
    public var acl: [ACL]
    public var ephemeral: Bool
    public var parentCVersion: Int32
    public init(path: String, data: [UInt8]?, acl: [ACL], ephemeral: Bool, parentCVersion: Int32) {
        self.path = path; self.data = data; self.acl = acl; self.ephemeral = ephemeral; self.parentCVersion = parentCVersion
    }
}

public struct CreateContainerTxn: Equatable, Sendable {
    public var path: String
    public var data: [UInt8]?
    public var acl: [ACL]
    public var parentCVersion: Int32
    public init(path: String, data: [UInt8]?, acl: [ACL], parentCVersion: Int32) {
        self.path = path; self.data = data; self.acl = acl; self.parentCVersion = parentCVersion
    }
}

public struct CreateTTLTxn: Equatable, Sendable {
    public var path: String
    public var data: [UInt8]?
    public var acl: [ACL]
    public var parentCVersion: Int32
    public var ttl: Int64
    public init(path: String, data: [UInt8]?, acl: [ACL], parentCVersion: Int32, ttl: Int64) {
        self.path = path; self.data = data; self.acl = acl; self.parentCVersion = parentCVersion; self.ttl = ttl
    }
}

public struct SetDataTxn: Equatable, Sendable {
    public var path: String
    public var data: [UInt8]?
    public var version: Int32
    public init(path: String, data: [UInt8]?, version: Int32) { self.path = path; self.data = data; self.version = version }
}

public struct SetACLTxn: Equatable, Sendable {
    public var path: String
    public var acl: [ACL]
    public var version: Int32
    public init(path: String, acl: [ACL], version: Int32) { self.path = path; self.acl = acl; self.version = version }
}

/// One transaction body. The case decides the type code written in TxnHeader.type
/// (and in a multi's sub-record).
public indirect enum Txn: Equatable, Sendable {
    case createSession(timeOut: Int32)
    /// nil paths: the record was absent (closeSessionTxn disabled on the writer).
    case closeSession(paths: [String]?)
    case error(Int32)
    case create(CreateTxn)
    case create2(CreateTxn)
    case createContainer(CreateContainerTxn)
    case createTTL(CreateTTLTxn)
    case delete(path: String)
    case deleteContainer(path: String)
    case setData(SetDataTxn)
    case reconfig(SetDataTxn)
    case setACL(SetACLTxn)
    case check(path: String, version: Int32)
    case multi([Txn])

    public var type: Int32 {
        switch self {
        case .createSession: OpCode.createSession.rawValue
        case .closeSession: OpCode.closeSession.rawValue
        case .error: OpCode.error.rawValue
        case .create: OpCode.create.rawValue
        case .create2: OpCode.create2.rawValue
        case .createContainer: OpCode.createContainer.rawValue
        case .createTTL: OpCode.createTTL.rawValue
        case .delete: OpCode.delete.rawValue
        case .deleteContainer: OpCode.deleteContainer.rawValue
        case .setData: OpCode.setData.rawValue
        case .reconfig: OpCode.reconfig.rawValue
        case .setACL: OpCode.setACL.rawValue
        case .check: OpCode.check.rawValue
        case .multi: OpCode.multi.rawValue
        }
    }

    public func write(to b: inout ByteBuffer) {
        switch self {
        case .createSession(let t): b.writeJuteInt(t)
        case .closeSession(let paths): if let paths { b.writeJuteStringVector(paths) }
        case .error(let e): b.writeJuteInt(e)
        case .create(let c), .create2(let c):
            b.writeJuteString(c.path); b.writeJuteBuffer(c.data); b.writeJuteRecordVector(c.acl)
            b.writeJuteBool(c.ephemeral); b.writeJuteInt(c.parentCVersion)
        case .createContainer(let c):
            b.writeJuteString(c.path); b.writeJuteBuffer(c.data); b.writeJuteRecordVector(c.acl)
            b.writeJuteInt(c.parentCVersion)
        case .createTTL(let c):
            b.writeJuteString(c.path); b.writeJuteBuffer(c.data); b.writeJuteRecordVector(c.acl)
            b.writeJuteInt(c.parentCVersion); b.writeJuteLong(c.ttl)
        case .delete(let p), .deleteContainer(let p): b.writeJuteString(p)
        case .setData(let s), .reconfig(let s):
            b.writeJuteString(s.path); b.writeJuteBuffer(s.data); b.writeJuteInt(s.version)
        case .setACL(let s):
            b.writeJuteString(s.path); b.writeJuteRecordVector(s.acl); b.writeJuteInt(s.version)
        case .check(let p, let v): b.writeJuteString(p); b.writeJuteInt(v)
        case .multi(let txns):
            b.writeJuteInt(Int32(txns.count))
            for t in txns {
                b.writeJuteInt(t.type)
                var sub = ByteBuffer()
                t.write(to: &sub)
                b.writeJuteInt(Int32(sub.readableBytes))
                b.writeImmutableBuffer(sub)
            }
        }
    }

    /// Reads the body of a txn of `type`. The buffer may hold trailing bytes
    /// (a TxnDigest); the caller decides what to do with them.
    public static func read(type: Int32, from b: inout ByteBuffer) throws(JuteError) -> Txn {
        switch type {
        case OpCode.createSession.rawValue: return .createSession(timeOut: try b.readJuteInt())
        case OpCode.closeSession.rawValue:
            return .closeSession(paths: b.readableBytes == 0 ? nil : try b.readJuteStringVector() ?? [])
        case OpCode.error.rawValue: return .error(try b.readJuteInt())
        case OpCode.create.rawValue, OpCode.create2.rawValue:
            let path = try b.readJuteNonNullString(), data = try b.readJuteBuffer(), acl = try b.readJuteACLs() ?? []
            let eph = try b.readJuteBool()
            // A legacy CreateTxnV0 has no parentCVersion; -1 means "parent's + 1".
            let pcv: Int32 = b.readableBytes >= 4 ? try b.readJuteInt() : -1
            let c = CreateTxn(path: path, data: data, acl: acl, ephemeral: eph, parentCVersion: pcv)
            return type == OpCode.create.rawValue ? .create(c) : .create2(c)
        case OpCode.createContainer.rawValue:
            return .createContainer(CreateContainerTxn(path: try b.readJuteNonNullString(), data: try b.readJuteBuffer(),
                                                       acl: try b.readJuteACLs() ?? [], parentCVersion: try b.readJuteInt()))
        case OpCode.createTTL.rawValue:
            return .createTTL(CreateTTLTxn(path: try b.readJuteNonNullString(), data: try b.readJuteBuffer(),
                                           acl: try b.readJuteACLs() ?? [], parentCVersion: try b.readJuteInt(),
                                           ttl: try b.readJuteLong()))
        case OpCode.delete.rawValue: return .delete(path: try b.readJuteNonNullString())
        case OpCode.deleteContainer.rawValue: return .deleteContainer(path: try b.readJuteNonNullString())
        case OpCode.setData.rawValue, OpCode.reconfig.rawValue:
            let s = SetDataTxn(path: try b.readJuteNonNullString(), data: try b.readJuteBuffer(), version: try b.readJuteInt())
            return type == OpCode.setData.rawValue ? .setData(s) : .reconfig(s)
        case OpCode.setACL.rawValue:
            return .setACL(SetACLTxn(path: try b.readJuteNonNullString(), acl: try b.readJuteACLs() ?? [], version: try b.readJuteInt()))
        case OpCode.check.rawValue: return .check(path: try b.readJuteNonNullString(), version: try b.readJuteInt())
        case OpCode.multi.rawValue:
            let count = try b.readJuteInt()
            guard count >= 0, Int(count) <= b.readableBytes else { throw .badLength("multi txn", count) }
            var txns: [Txn] = []
            for _ in 0..<count {
                let subType = try b.readJuteInt()
                let len = try b.readJuteInt()
                guard len >= 0, Int(len) <= b.readableBytes else { throw .badLength("multi sub-txn", len) }
                var sub = b.readSlice(length: Int(len))!
                txns.append(try Txn.read(type: subType, from: &sub))
            }
            return .multi(txns)
        default:
            throw .invalid("unsupported txn type \(type)")
        }
    }
}
