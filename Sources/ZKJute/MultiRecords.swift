// multi (14) and multiRead (22): a sequence of MultiHeader + sub-record, ended
// by MultiHeader{-1, true, -1}; the reply mirrors it with one result per op.
import NIOCore

public enum MultiOp: Equatable, Sendable {
    /// opcode is create (1), create2 (15) or createContainer (19).
    case create(CreateRequest, opcode: Int32)
    case createTTL(CreateTTLRequest)
    case delete(DeleteRequest)
    case setData(SetDataRequest)
    case check(CheckVersionRequest)
    case getData(path: String)
    case getChildren(path: String)

    public var opcode: Int32 {
        switch self {
        case .create(_, let op): op
        case .createTTL: OpCode.createTTL.rawValue
        case .delete: OpCode.delete.rawValue
        case .setData: OpCode.setData.rawValue
        case .check: OpCode.check.rawValue
        case .getData: OpCode.getData.rawValue
        case .getChildren: OpCode.getChildren.rawValue
        }
    }

    public var path: String {
        switch self {
        case .create(let r, _): r.path
        case .createTTL(let r): r.path
        case .delete(let r): r.path
        case .setData(let r): r.path
        case .check(let r): r.path
        case .getData(let p), .getChildren(let p): p
        }
    }

    public var isRead: Bool {
        switch self { case .getData, .getChildren: true; default: false }
    }
}

public struct MultiRequest: JuteRecord, Equatable {
    public var ops: [MultiOp]
    public init(ops: [MultiOp]) { self.ops = ops }

    /// Unknown sub-opcodes fail the whole parse (the server answers MARSHALLINGERROR).
    public init(from b: inout ByteBuffer) throws(JuteError) {
        ops = []
        while true {
            let h = try MultiHeader(from: &b)
            if h.done { break }
            switch h.type {
            case OpCode.create.rawValue, OpCode.create2.rawValue, OpCode.createContainer.rawValue:
                ops.append(.create(try CreateRequest(from: &b), opcode: h.type))
            case OpCode.createTTL.rawValue: ops.append(.createTTL(try CreateTTLRequest(from: &b)))
            case OpCode.delete.rawValue: ops.append(.delete(try DeleteRequest(from: &b)))
            case OpCode.setData.rawValue: ops.append(.setData(try SetDataRequest(from: &b)))
            case OpCode.check.rawValue: ops.append(.check(try CheckVersionRequest(from: &b)))
            case OpCode.getData.rawValue: ops.append(.getData(path: try GetDataRequest(from: &b).path))
            case OpCode.getChildren.rawValue: ops.append(.getChildren(path: try GetChildrenRequest(from: &b).path))
            default: throw .invalid("invalid type \(h.type) in multi")
            }
        }
    }

    public func write(to b: inout ByteBuffer) {
        for op in ops {
            MultiHeader(type: op.opcode, done: false, err: -1).write(to: &b)
            switch op {
            case .create(let r, _): r.write(to: &b)
            case .createTTL(let r): r.write(to: &b)
            case .delete(let r): r.write(to: &b)
            case .setData(let r): r.write(to: &b)
            case .check(let r): r.write(to: &b)
            case .getData(let p): GetDataRequest(path: p, watch: false).write(to: &b)
            case .getChildren(let p): GetChildrenRequest(path: p, watch: false).write(to: &b)
            }
        }
        MultiHeader.end.write(to: &b)
    }
}

public enum OpResult: Equatable, Sendable {
    case create(path: String)
    case create2(path: String, stat: Stat)
    case delete
    case setData(Stat)
    case check
    case getData(data: [UInt8]?, stat: Stat)
    case getChildren([String])
    case error(Int32)

    public var type: Int32 {
        switch self {
        case .create: OpCode.create.rawValue
        case .create2: OpCode.create2.rawValue
        case .delete: OpCode.delete.rawValue
        case .setData: OpCode.setData.rawValue
        case .check: OpCode.check.rawValue
        case .getData: OpCode.getData.rawValue
        case .getChildren: OpCode.getChildren.rawValue
        case .error: OpCode.error.rawValue
        }
    }
}

public struct MultiResponse: JuteRecord, Equatable {
    public var results: [OpResult]
    public init(results: [OpResult]) { self.results = results }

    public init(from b: inout ByteBuffer) throws(JuteError) {
        results = []
        while true {
            let h = try MultiHeader(from: &b)
            if h.done { break }
            switch h.type {
            case OpCode.create.rawValue: results.append(.create(path: try b.readJuteNonNullString()))
            case OpCode.create2.rawValue:
                results.append(.create2(path: try b.readJuteNonNullString(), stat: try Stat(from: &b)))
            case OpCode.delete.rawValue: results.append(.delete)
            case OpCode.setData.rawValue: results.append(.setData(try Stat(from: &b)))
            case OpCode.check.rawValue: results.append(.check)
            case OpCode.getData.rawValue: results.append(.getData(data: try b.readJuteBuffer(), stat: try Stat(from: &b)))
            case OpCode.getChildren.rawValue: results.append(.getChildren(try b.readJuteStringVector() ?? []))
            case OpCode.error.rawValue: results.append(.error(try b.readJuteInt()))
            default: throw .invalid("invalid type \(h.type) in multi response")
            }
        }
    }

    public func write(to b: inout ByteBuffer) {
        for r in results {
            var err: Int32 = 0
            if case .error(let e) = r { err = e }
            MultiHeader(type: r.type, done: false, err: err).write(to: &b)
            switch r {
            case .create(let p): b.writeJuteString(p)
            case .create2(let p, let s): b.writeJuteString(p); s.write(to: &b)
            case .delete, .check: break
            case .setData(let s): s.write(to: &b)
            case .getData(let d, let s): b.writeJuteBuffer(d); s.write(to: &b)
            case .getChildren(let c): b.writeJuteStringVector(c)
            case .error(let e): b.writeJuteInt(e)
            }
        }
        MultiHeader.end.write(to: &b)
    }
}
