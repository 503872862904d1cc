// One-line text for a transaction log record: header fields, the type name as
// Apache's Request.op2String spells it, then `key=value` fields of the body.
// Multi sub-ops are inlined in braces so every record stays on one line.
import ZKJute
import ZKPersistence

enum TxnText {
    /// Apache's names for the txn types (Request.op2String): our OpCode case
    /// names, except that Apache spells type 21 "createTtl".
    static func typeName(_ type: Int32) -> String {
        if type == OpCode.createTTL.rawValue { return "createTtl" }
        return OpCode(rawValue: type).map { String(describing: $0) } ?? "unknown(\(type))"
    }

    static func errorName(_ code: Int32) -> String {
        KeeperCode(rawValue: code).map { "\(code)(\($0))" } ?? "\(code)"
    }

    /// The body's fields, without the type name.
    static func fields(_ txn: Txn) -> String {
        switch txn {
        case .createSession(let timeOut):
            return "timeout=\(timeOut)"
        case .closeSession(let paths):
            // nil: written with closeSessionTxn disabled, so no ephemeral list at all.
            guard let paths else { return "ephemerals=(not recorded)" }
            return "ephemerals=[" + paths.map(Format.path).joined(separator: ",") + "]"
        case .error(let code):
            return "err=\(errorName(code))"
        case .create(let c), .create2(let c):
            return "path=\(Format.path(c.path)) data=\(Format.data(c.data)) acl=\(Format.acl(c.acl)) "
                + "ephemeral=\(c.ephemeral) parentCVersion=\(c.parentCVersion)"
        case .createContainer(let c):
            return "path=\(Format.path(c.path)) data=\(Format.data(c.data)) acl=\(Format.acl(c.acl)) "
                + "parentCVersion=\(c.parentCVersion)"
        case .createTTL(let c):
            return "path=\(Format.path(c.path)) data=\(Format.data(c.data)) acl=\(Format.acl(c.acl)) "
                + "parentCVersion=\(c.parentCVersion) ttl=\(c.ttl)"
        case .delete(let p), .deleteContainer(let p):
            return "path=\(Format.path(p))"
        case .setData(let s), .reconfig(let s):
            return "path=\(Format.path(s.path)) data=\(Format.data(s.data)) version=\(s.version)"
        case .setACL(let s):
            return "path=\(Format.path(s.path)) acl=\(Format.acl(s.acl)) version=\(s.version)"
        case .check(let p, let v):
            // The logged version is the node's version plus one (disk-format.md §4.3).
            return "path=\(Format.path(p)) version=\(v)"
        case .multi(let subs):
            return "ops=\(subs.count) {" + subs.map { sub in
                let f = fields(sub)
                return f.isEmpty ? typeName(sub.type) : typeName(sub.type) + " " + f
            }.joined(separator: "; ") + "}"
        }
    }

    /// `<time> session 0x.. cxid 0x.. zxid 0x.. <type> <fields> [digest=0x..]`.
    static func line(_ r: TxnLogFormat.Record) -> String {
        var s = "\(Format.isoTime(r.hdr.time)) session \(Format.hex(r.hdr.clientId)) cxid \(Format.hex(r.hdr.cxid)) "
            + "zxid \(Format.hex(r.hdr.zxid)) \(typeName(r.hdr.type))"
        let f = fields(r.txn)
        if !f.isEmpty { s += " " + f }
        if let d = r.digest { s += " digest=v\(d.version):\(Format.hex(d.treeDigest))" }
        return s
    }
}
