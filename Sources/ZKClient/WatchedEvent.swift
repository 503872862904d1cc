// What the client hands its user besides replies: the server's watch
// notifications and the client's own session state changes (type .none),
// merged into one ordered stream.
import ZKJute

public struct WatchedEvent: Sendable, Hashable, CustomStringConvertible {
    public var type: EventType
    public var state: KeeperState
    /// nil for session state changes, whose type is `.none`.
    public var path: String?

    public init(type: EventType, state: KeeperState, path: String?) {
        self.type = type; self.state = state; self.path = path
    }

    static func session(_ state: KeeperState) -> WatchedEvent {
        WatchedEvent(type: .none, state: state, path: nil)
    }

    public var description: String { "WatchedEvent(\(type), \(state), \(path ?? "nil"))" }
}

/// What a caller needs to resume a session on another connection.
public struct SessionCredentials: Sendable, Hashable {
    public var id: Int64
    public var password: [UInt8]
    public init(id: Int64, password: [UInt8]) { self.id = id; self.password = password }
}
