// The typed API: one method per client opcode, each a request record in and a
// response record out, with a non-zero reply err thrown as its KeeperCode.
// Paths are not validated here, so tests can send what a server must refuse.
import NIOCore
import ZKJute

/// A request already on its way; `get()` waits for its reply.
public struct PendingReply: Sendable {
    let future: EventLoopFuture<(header: ReplyHeader, body: ByteBuffer)>
    public func get() async throws -> (ReplyHeader, ByteBuffer) {
        let r = try await future.get()
        return (r.header, r.body)
    }
}

extension ZooKeeperClient {
    // MARK: raw access

    /// Escape hatch: any opcode with any body. Returns the header whatever its
    /// err; throws only when there is no reply (connectionLoss, sessionExpired).
    public func send(opcode: Int32, body: ByteBuffer? = nil) async throws -> (ReplyHeader, ByteBuffer) {
        try await enqueue(opcode: opcode, body: body, watch: nil).get()
    }

    /// Like `send`, but returns once the request is queued for writing, so that
    /// one task can put many requests on the wire before awaiting any reply.
    public func submit(opcode: Int32, body: ByteBuffer? = nil) -> PendingReply {
        PendingReply(future: enqueue(opcode: opcode, body: body, watch: nil))
    }

    private func call(_ opcode: OpCode, _ record: (any JuteRecord)?, watch: WatchRegistration? = nil) async throws -> ByteBuffer {
        let reply = try await enqueue(opcode: opcode.rawValue, body: record.map { $0.serialized() }, watch: watch).get()
        guard reply.header.err == KeeperCode.ok.rawValue else {
            throw KeeperCode(rawValue: reply.header.err) ?? .systemError
        }
        return reply.body
    }

    private func decode<R: JuteRecord>(_ type: R.Type, _ body: ByteBuffer) throws(KeeperCode) -> R {
        do { return try R.decode(body) } catch { throw .marshallingError }
    }

    // MARK: writes

    /// CONTAINER mode goes out as createContainer (19), as in the Java client.
    @discardableResult
    public func create(_ path: String, data: [UInt8]? = [], acl: [ACL] = ACL.openACLUnsafe,
                       mode: CreateMode = .persistent) async throws -> String {
        if mode == .container {
            return try await createContainer(path, data: data, acl: acl).path
        }
        let request = CreateRequest(path: path, data: data, acl: acl, flags: mode.rawValue)
        return try decode(CreateResponse.self, try await call(.create, request)).path
    }

    @discardableResult
    public func create2(_ path: String, data: [UInt8]? = [], acl: [ACL] = ACL.openACLUnsafe,
                        mode: CreateMode = .persistent) async throws -> (path: String, stat: Stat) {
        let request = CreateRequest(path: path, data: data, acl: acl, flags: mode.rawValue)
        let r = try decode(Create2Response.self, try await call(.create2, request))
        return (r.path, r.stat)
    }

    @discardableResult
    public func createContainer(_ path: String, data: [UInt8]? = [],
                                acl: [ACL] = ACL.openACLUnsafe) async throws -> (path: String, stat: Stat) {
        let request = CreateRequest(path: path, data: data, acl: acl, flags: CreateMode.container.rawValue)
        let r = try decode(Create2Response.self, try await call(.createContainer, request))
        return (r.path, r.stat)
    }

    /// `mode` must be one of the TTL modes; the server refuses anything else.
    @discardableResult
    public func createTTL(_ path: String, data: [UInt8]? = [], acl: [ACL] = ACL.openACLUnsafe,
                          mode: CreateMode = .persistentWithTTL, ttl: Int64) async throws -> (path: String, stat: Stat) {
        let request = CreateTTLRequest(path: path, data: data, acl: acl, flags: mode.rawValue, ttl: ttl)
        let r = try decode(Create2Response.self, try await call(.createTTL, request))
        return (r.path, r.stat)
    }

    /// version -1 matches any version.
    public func delete(_ path: String, version: Int32 = -1) async throws {
        _ = try await call(.delete, DeleteRequest(path: path, version: version))
    }

    @discardableResult
    public func setData(_ path: String, data: [UInt8]?, version: Int32 = -1) async throws -> Stat {
        try decode(SetDataResponse.self, try await call(.setData, SetDataRequest(path: path, data: data, version: version))).stat
    }

    /// `version` is compared with the node's aversion.
    @discardableResult
    public func setACL(_ path: String, acl: [ACL], version: Int32 = -1) async throws -> Stat {
        try decode(SetACLResponse.self, try await call(.setACL, SetACLRequest(path: path, acl: acl, version: version))).stat
    }

    /// Atomic: either every op is applied or none is. A failed transaction is
    /// not thrown; it comes back as `.error` results (0 for the ops before the
    /// failing one, its code, then runtimeInconsistency), as on the wire.
    public func multi(_ ops: [MultiOp]) async throws -> [OpResult] {
        try decode(MultiResponse.self, try await call(.multi, MultiRequest(ops: ops))).results
    }

    /// Independent reads (getData/getChildren ops), each with its own result.
    public func multiRead(_ ops: [MultiOp]) async throws -> [OpResult] {
        try decode(MultiResponse.self, try await call(.multiRead, MultiRequest(ops: ops))).results
    }

    // MARK: reads

    /// nil when the node does not exist (with `watch`, a creation watch is left).
    public func exists(_ path: String, watch: Bool = false) async throws -> Stat? {
        do {
            let body = try await call(.exists, ExistsRequest(path: path, watch: watch), watch: watch ? .exists(path) : nil)
            return try decode(ExistsResponse.self, body).stat
        } catch KeeperCode.noNode {
            return nil
        }
    }

    public func getData(_ path: String, watch: Bool = false) async throws -> (data: [UInt8]?, stat: Stat) {
        let body = try await call(.getData, GetDataRequest(path: path, watch: watch), watch: watch ? .data(path) : nil)
        let r = try decode(GetDataResponse.self, body)
        return (r.data, r.stat)
    }

    /// Digest ids come back as "user:x" unless the caller has ADMIN.
    public func getACL(_ path: String) async throws -> (acl: [ACL], stat: Stat) {
        let r = try decode(GetACLResponse.self, try await call(.getACL, GetACLRequest(path: path)))
        return (r.acl, r.stat)
    }

    /// In the server's order, which is not sorted.
    public func getChildren(_ path: String, watch: Bool = false) async throws -> [String] {
        let body = try await call(.getChildren, GetChildrenRequest(path: path, watch: watch), watch: watch ? .children(path) : nil)
        return try decode(GetChildrenResponse.self, body).children
    }

    public func getChildren2(_ path: String, watch: Bool = false) async throws -> (children: [String], stat: Stat) {
        let body = try await call(.getChildren2, GetChildren2Request(path: path, watch: watch), watch: watch ? .children(path) : nil)
        let r = try decode(GetChildren2Response.self, body)
        return (r.children, r.stat)
    }

    /// Every descendant, not just the direct children.
    public func getAllChildrenNumber(_ path: String) async throws -> Int32 {
        try decode(GetAllChildrenNumberResponse.self,
                   try await call(.getAllChildrenNumber, GetAllChildrenNumberRequest(path: path))).totalNumber
    }

    /// This session's ephemeral nodes whose path starts with `prefix` ("/" = all).
    public func getEphemerals(_ prefix: String = "/") async throws -> [String] {
        try decode(GetEphemeralsResponse.self,
                   try await call(.getEphemerals, GetEphemeralsRequest(prefixPath: prefix))).ephemerals
    }

    public func sync(_ path: String) async throws -> String {
        try decode(SyncResponse.self, try await call(.sync, SyncRequest(path: path))).path
    }

    public func whoAmI() async throws -> [ClientInfo] {
        try decode(WhoAmIResponse.self, try await call(.whoAmI, nil)).clientInfo
    }

    // MARK: watches and auth

    /// A persistent (or persistent recursive) watch; kept across reconnects.
    public func addWatch(_ path: String, mode: AddWatchMode) async throws {
        _ = try await call(.addWatch, AddWatchRequest(path: path, type: mode.rawValue), watch: .added(path, mode))
    }

    /// Asks the server (never only the local record); noWatcher if it has none.
    public func removeWatches(_ path: String, type: WatcherType) async throws {
        _ = try await call(.removeWatches, RemoveWatchesRequest(path: path, type: type.rawValue), watch: .removed(path, type))
    }

    public func checkWatches(_ path: String, type: WatcherType) async throws {
        _ = try await call(.checkWatches, CheckWatchesRequest(path: path, type: type.rawValue))
    }

    /// Sent with xid -4 and replayed on every reconnect; a rejection throws
    /// authFailed, emits an AuthFailed event, and the server then drops the
    /// connection (the client reconnects without the rejected identity).
    public func addAuth(scheme: String, auth: [UInt8]) async throws {
        try await submitAuth(scheme: scheme, auth: auth).get()
    }
}
