// One client request (or a server-internal one: session expiry, container
// reaping) as it moves down the processor chain, gathering its txn on the way.
import NIOCore
import ZKJute

/// Passed from thread to thread through RequestQueue, whose lock orders the
/// accesses; only the stage holding it reads or writes it.
public final class Request: @unchecked Sendable {
    public let cnxn: ServerCnxn?
    public let sessionId: Int64
    public let cxid: Int32
    public let type: Int32
    /// The request record's bytes, after the RequestHeader.
    public let body: ByteBuffer
    public let authInfo: [Id]
    public let createTime: Int64
    public var hdr: TxnHeader?
    public var txn: Txn?
    /// The tree digest once this txn is applied, precalculated by Prep; nil
    /// for error txns, as Apache logs them.
    public var txnDigest: TxnDigest?
    /// The KeeperException Prep raised, reported by Final.
    public var exception: KeeperCode?
    /// Which connection to the leader the request came through (a learner's
    /// handler, or the leader's own clients): a session's requests must keep
    /// to one (SESSIONMOVED). nil on a standalone server.
    public var owner: ObjectIdentifier?
    /// Set on the watchdog's probes only: called by the last stage of the
    /// chain the probe went down, proving every stage on the way is moving.
    public var probeDone: (@Sendable () -> Void)?

    public init(cnxn: ServerCnxn?, sessionId: Int64, cxid: Int32, type: Int32, body: ByteBuffer, authInfo: [Id]) {
        self.cnxn = cnxn; self.sessionId = sessionId; self.cxid = cxid; self.type = type
        self.body = body; self.authInfo = authInfo
        self.createTime = Clock.monotonicMillis()
    }

    /// Request.isValid as of 3.8.5: top-level `check` is no longer accepted.
    public static func isValid(_ type: Int32) -> Bool {
        guard let op = OpCode(rawValue: type) else { return false }
        switch op {
        case .notification, .check, .error, .sasl, .auth: return false
        default: return true
        }
    }

    /// A committed txn that arrived from the leader, with no client here.
    public static func committed(_ hdr: TxnHeader, _ txn: Txn, digest: TxnDigest?) -> Request {
        let r = Request(cnxn: nil, sessionId: hdr.clientId, cxid: hdr.cxid, type: hdr.type, body: ByteBuffer(), authInfo: [])
        r.hdr = hdr
        r.txn = txn
        r.txnDigest = digest
        return r
    }

    /// A no-op for the service watchdog: a ping of no session, answered to no one.
    public static func probe(_ done: @escaping @Sendable () -> Void) -> Request {
        let r = Request(cnxn: nil, sessionId: 0, cxid: 0, type: OpCode.ping.rawValue, body: ByteBuffer(), authInfo: [])
        r.probeDone = done
        return r
    }

    /// Writes take a zxid and go through the txn log; everything else is a read.
    public var isWrite: Bool {
        switch OpCode(rawValue: type) {
        case .create, .create2, .createContainer, .createTTL, .delete, .deleteContainer, .setData, .setACL,
             .reconfig, .multi, .createSession, .closeSession, .check: true
        default: false
        }
    }
}

/// A stage of the pipeline (RequestProcessor in Apache ZooKeeper).
public protocol RequestProcessor: AnyObject, Sendable {
    func processRequest(_ request: Request)
    func shutdown()
}
